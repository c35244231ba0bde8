import { applyDecorators } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { registerDecorator, ValidateNested } from 'class-validator';

/**
 * Validation decorators checked in the order given. class-validator runs a property's rules in
 * the order they were registered, which for stacked decorators is bottom-up; with
 * stopAtFirstError only the first failure is reported, so the type check must come first or
 * the message names the wrong rule ("must not be greater than 100" for a string).
 */
export const Rules = (...rules: PropertyDecorator[]): PropertyDecorator =>
  applyDecorators(...rules);

/** A one-off rule: `test` gets the (transformed) value and says whether it passes. */
export function Rule(
  name: string,
  message: string,
  test: (value: unknown) => boolean,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message },
      validator: { validate: (value: unknown) => test(value) },
    });
}

/**
 * An array of `cls` objects validated item by item. Items that are not JSON objects (null,
 * strings, and arrays, which ValidateNested would otherwise walk into and pass when empty)
 * are reported at their index with `message`.
 */
export function NestedObjects(cls: new () => object, message: string): PropertyDecorator {
  return applyDecorators(
    Type(() => cls),
    Transform(({ value }: { value: unknown }) =>
      Array.isArray(value)
        ? value.map((item: unknown) => (item instanceof cls ? item : null))
        : value,
    ),
    ValidateNested({ each: true, message }),
  );
}
