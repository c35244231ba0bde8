// B2C's "strong" password complexity: 8-64 characters, at least three of
// lower case, upper case, digit and symbol.

export function passwordPolicyProblem(password: string): string | undefined {
  if (password.length < 8 || password.length > 64)
    return 'The password must be between 8 and 64 characters.';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) =>
    re.test(password),
  ).length;
  if (classes < 3) {
    return 'The password must have at least 3 of the following: a lowercase letter, an uppercase letter, a digit, a symbol.';
  }
  return undefined;
}
