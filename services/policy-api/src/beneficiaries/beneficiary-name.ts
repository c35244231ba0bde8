import {
  BENEFICIARY_NAME_MAX,
  BENEFICIARY_NAME_RULES,
  normaliseBeneficiaryName,
} from '@idp/contracts';
import { Transform } from 'class-transformer';
import { IsString } from 'class-validator';
import { Rule, Rules } from '../common/rules';

export const NAME_MAX = BENEFICIARY_NAME_MAX;

/**
 * A beneficiary's name: NFC-normalised and trimmed, then each rule of @idp/contracts (the portal
 * checks its form with the same ones) in order, the first failure reported.
 */
export const BeneficiaryName = (): PropertyDecorator =>
  Rules(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? normaliseBeneficiaryName(value) : value,
    ),
    IsString({ message: 'name must be a string' }),
    ...BENEFICIARY_NAME_RULES.map((r) =>
      Rule(r.name, r.message, (v) => typeof v === 'string' && r.test(v)),
    ),
  );
