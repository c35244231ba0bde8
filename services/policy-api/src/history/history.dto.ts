import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { BeneficiaryDto } from '../beneficiaries/beneficiary.dto';
import { Rules } from '../common/rules';
import type { BeneficiaryList } from '../policies/policy.view';

/** The largest policy version (PostgreSQL integer). */
const VERSION_MAX = 2_147_483_647;

/**
 * A query value as a number only when it is written as plain decimal digits: `0x10`, ` 5`, `1e3`
 * or a repeated parameter stay as given and fail the integer rule (Number() would accept them).
 */
const DecimalInteger = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^[0-9]{1,16}$/.test(value) ? Number(value) : value,
  );

export class HistoryQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @DecimalInteger()
  @Rules(
    IsInt({ message: 'limit must be an integer' }),
    Min(1, { message: 'limit must be at least 1' }),
    Max(100, { message: 'limit must be at most 100' }),
  )
  limit?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: VERSION_MAX,
    description: 'Only entries older than this policy version (paging)',
  })
  @IsOptional()
  @DecimalInteger()
  @Rules(
    IsInt({ message: 'beforeVersion must be an integer' }),
    Min(1, { message: 'beforeVersion must be at least 1' }),
    Max(VERSION_MAX, { message: `beforeVersion must be at most ${VERSION_MAX}` }),
  )
  beforeVersion?: number;
}

export class HistoryEntryView {
  @ApiProperty({ description: 'Policy version this change produced' }) version!: number;
  @ApiProperty({ format: 'date-time' }) changedAt!: string;
  @ApiProperty({ description: 'Object id (oid) of the user who made the change' })
  changedBy!: string;
  @ApiProperty({
    enum: ['b2c', 'external-id'],
    description:
      'Identity provider of changedBy (a migrated user has a B2C and an External ID oid)',
  })
  changedByProvider!: string;
  @ApiPropertyOptional({ description: 'Client application (azp) that called the API' })
  clientId?: string;
  @ApiProperty({
    description:
      'How the change was stepped up: the B2C user flow (tfp/acr), or acrs:<context> for External ID',
  })
  userFlow!: string;
  @ApiProperty({ format: 'date-time', description: 'auth_time of that token' }) authTime!: string;
  @ApiProperty() requestId!: string;
  @ApiProperty({ type: [BeneficiaryDto] }) before!: BeneficiaryList;
  @ApiProperty({ type: [BeneficiaryDto] }) after!: BeneficiaryList;
}

export class HistoryView {
  @ApiPropertyOptional({ description: 'Absent when the caller has no policy yet' })
  policyNumber?: string;
  @ApiProperty({ type: [HistoryEntryView], description: 'Newest first' })
  items!: HistoryEntryView[];
  @ApiPropertyOptional({ description: 'Pass as beforeVersion for the next page' })
  nextBeforeVersion?: number;
}
