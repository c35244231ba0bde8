import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { Errors, type FieldError } from './api-error';
import { fieldName, fieldPath, inputShapeErrors } from './input-shape';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = fieldPath(parent, e.property);
    for (const [rule, message] of Object.entries(e.constraints ?? {})) {
      // class-validator's own sentence would echo the caller's key verbatim.
      const name = fieldName(e.property);
      out.push({
        field,
        message:
          rule === 'whitelistValidation'
            ? `${name === '?' ? 'this' : name} is not an allowed field`
            : message,
      });
    }
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/**
 * DTO validation for every body and query: first the shape every input must have (a JSON object,
 * bounded depth, no prototype-named keys), then the DTO's rules. Unknown fields are rejected,
 * values transformed (NFC names), the first failing rule per field reported, one 400 shape.
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      stopAtFirstError: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      // Values can be personal data (names): never echo them back in messages or logs.
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => Errors.validation(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // The whole body or query object (not one named field of it).
    if ((metadata.type === 'body' || metadata.type === 'query') && metadata.data === undefined) {
      const errors = inputShapeErrors(value, metadata.type);
      if (errors.length > 0) throw Errors.validation(errors);
    }
    return super.transform(value, metadata);
  }
}

export const validationPipe = (): ValidationPipe => new ApiValidationPipe();
