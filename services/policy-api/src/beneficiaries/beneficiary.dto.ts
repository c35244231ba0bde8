import { ApiProperty } from '@nestjs/swagger';
import { Relationship, type Beneficiary as BeneficiarySchema } from '@idp/contracts';
import type { z } from 'zod';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
  registerDecorator,
} from 'class-validator';

type Beneficiary = z.infer<typeof BeneficiarySchema>;

export const RELATIONSHIPS = Relationship.options;
export const MAX_BENEFICIARIES = 20;

// No control characters (incl. NUL, which jsonb refuses), line/paragraph separators or lone surrogates.
const NAME_ALLOWED = /^[^\p{Cc}\p{Cs}\u2028\u2029]*$/u;

/** The shares of all beneficiaries must add up to `total` (checked only when each share is an integer). */
function SharesSumTo(total: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'sharesSumTo',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [total],
      options: { message: `sharePercent values must add up to ${total}` },
      validator: {
        validate(value: unknown): boolean {
          if (!Array.isArray(value)) return true;
          const shares = value.map((b: unknown) => (b && typeof b === 'object' ? (b as { sharePercent?: unknown }).sharePercent : undefined));
          // Invalid shares are reported per item; a sum over them would only add noise.
          if (!shares.every((s): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= 100)) return true;
          return shares.reduce((a, b) => a + b, 0) === total;
        },
      },
    });
}

/** Length in Unicode code points (what the event contract counts too), not UTF-16 units. */
function CodePointLength(min: number, max: number, options: { message: string }): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'codePointLength',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [min, max],
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && [...value].length >= min && [...value].length <= max,
      },
    });
}

export class BeneficiaryDto implements Beneficiary {
  @ApiProperty({ description: 'Full name; Unicode NFC-normalised and trimmed, 1-200 characters, no control characters.', minLength: 1, maxLength: 200, example: 'Zoë Example' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.normalize('NFC').trim() : value))
  @IsString()
  @CodePointLength(1, 200, { message: 'name must be 1 to 200 characters' })
  @Matches(NAME_ALLOWED, { message: 'name must not contain control characters' })
  name!: string;

  @ApiProperty({ enum: RELATIONSHIPS, example: 'spouse' })
  @IsIn(RELATIONSHIPS, { message: `relationship must be one of: ${RELATIONSHIPS.join(', ')}` })
  relationship!: Beneficiary['relationship'];

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100, example: 50 })
  @IsInt({ message: 'sharePercent must be an integer' })
  @Min(1)
  @Max(100)
  sharePercent!: number;
}

export class ReplaceBeneficiariesDto {
  @ApiProperty({ type: [BeneficiaryDto], minItems: 1, maxItems: MAX_BENEFICIARIES, description: 'The complete new list; shares add up to 100.' })
  @IsArray()
  @ArrayMinSize(1, { message: 'at least one beneficiary is required' })
  @ArrayMaxSize(MAX_BENEFICIARIES)
  @ValidateNested({ each: true })
  @Type(() => BeneficiaryDto)
  @SharesSumTo(100)
  beneficiaries!: BeneficiaryDto[];
}
