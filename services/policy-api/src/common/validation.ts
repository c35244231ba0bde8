import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { Errors, type FieldError } from './api-error';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = /^\d+$/.test(e.property) ? `${parent}[${e.property}]` : parent ? `${parent}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ field, message });
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** DTO validation: unknown fields rejected, values transformed (NFC names), one clear 400 shape. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
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
