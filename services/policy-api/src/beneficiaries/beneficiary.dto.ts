import { ApiProperty } from '@nestjs/swagger';
import { Relationship, type Beneficiary as BeneficiarySchema } from '@idp/contracts';
import type { z } from 'zod';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, Max, Min } from 'class-validator';
import { NestedObjects, Rule, Rules } from '../common/rules';
import { BeneficiaryName, NAME_MAX } from './beneficiary-name';

type Beneficiary = z.infer<typeof BeneficiarySchema>;

export const RELATIONSHIPS = Relationship.options;
export const MAX_BENEFICIARIES = 20;
export const SHARES_TOTAL = 100;

const isShare = (s: unknown): s is number =>
  typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= 100;

/** The shares add up to SHARES_TOTAL; checked only when each one is valid (those are reported per item). */
function sharesAddUp(list: unknown): boolean {
  if (!Array.isArray(list)) return true;
  const shares = list.map((b: unknown) =>
    b && typeof b === 'object' ? (b as { sharePercent?: unknown }).sharePercent : undefined,
  );
  return !shares.every(isShare) || shares.reduce((a, b) => a + b, 0) === SHARES_TOTAL;
}

export class BeneficiaryDto implements Beneficiary {
  @ApiProperty({
    description: `Full name; Unicode NFC-normalised and trimmed, 1-${NAME_MAX} characters, no control characters, no bidi-override or invisible formatting characters (Hangul fillers and the braille blank included), no private-use, unassigned or noncharacter code points, at least one visible character (not only combining marks).`,
    minLength: 1,
    maxLength: NAME_MAX,
    example: 'Zoë Example',
  })
  @BeneficiaryName()
  name!: string;

  @ApiProperty({ enum: RELATIONSHIPS, example: 'spouse' })
  @IsIn(RELATIONSHIPS, { message: `relationship must be one of: ${RELATIONSHIPS.join(', ')}` })
  relationship!: Beneficiary['relationship'];

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100, example: 50 })
  @Rules(
    IsInt({ message: 'sharePercent must be an integer (a JSON number)' }),
    Min(1, { message: 'sharePercent must be at least 1' }),
    Max(100, { message: 'sharePercent must be at most 100' }),
  )
  sharePercent!: number;
}

export class ReplaceBeneficiariesDto {
  @ApiProperty({
    type: [BeneficiaryDto],
    minItems: 1,
    maxItems: MAX_BENEFICIARIES,
    description: `The complete new list; shares add up to ${SHARES_TOTAL}.`,
    // A valid list: the items' own examples alone (one share of 50) would not add up.
    example: [
      { name: 'Zoë Example', relationship: 'spouse', sharePercent: 60 },
      { name: 'Sam Example', relationship: 'child', sharePercent: 40 },
    ],
  })
  @Rules(
    IsArray({ message: 'beneficiaries must be an array' }),
    ArrayMinSize(1, { message: 'beneficiaries must contain at least 1 item' }),
    ArrayMaxSize(MAX_BENEFICIARIES, {
      message: `beneficiaries must contain at most ${MAX_BENEFICIARIES} items`,
    }),
    Rule('sharesAddUp', `sharePercent values must add up to ${SHARES_TOTAL}`, sharesAddUp),
    NestedObjects(BeneficiaryDto, 'each beneficiary must be an object'),
  )
  beneficiaries!: BeneficiaryDto[];
}
