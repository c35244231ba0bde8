// The user-flow pages. Inputs keep stable ids/names (close to B2C's own) so
// headless browser tests can fill them.
import type { FastifyReply } from 'fastify';
import { html, sendPage, type Raw } from './html';
import type { AuthorizeTransaction } from './transactions';

export interface PageUrls {
  /** Form action for the page being rendered. */
  action: string;
  signUp?: string;
  signIn?: string;
  forgotPassword?: string;
}

function errorBlock(error: string | undefined): Raw {
  return error ? html`<p class="error" role="alert" id="errorMessage">${error}</p>` : html``;
}

function hidden(tx: AuthorizeTransaction): Raw {
  return html`<input type="hidden" name="csrf_token" value="${tx.csrf}" />`;
}

function field(o: {
  id: string;
  label: string;
  type?: string;
  value?: string;
  autocomplete?: string;
  inputmode?: string;
  error?: boolean;
}): Raw {
  return html`<label for="${o.id}">${o.label}</label>
    <input
      id="${o.id}"
      name="${o.id}"
      type="${o.type ?? 'text'}"
      value="${o.value ?? ''}"
      required${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${
        o.inputmode ? html` inputmode="${o.inputmode}"` : ''
      }${o.error ? html` aria-invalid="true" aria-describedby="errorMessage"` : ''}
    />`;
}

function send(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  title: string,
  body: Raw,
  status = 200,
): FastifyReply {
  return sendPage(reply, { title, body, formTarget: tx.redirectUri, status });
}

export function signInPage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: { email?: string; error?: string } = {},
): FastifyReply {
  return send(
    reply,
    tx,
    'Sign in',
    html`<h1>Sign in</h1>
      ${errorBlock(o.error)}
      <form method="post" action="${urls.action}" id="localAccountForm" novalidate>
        ${hidden(tx)}
        ${field({ id: 'email', label: 'Email address', type: 'email', value: o.email ?? tx.loginHint, autocomplete: 'username', error: !!o.error })}
        ${field({ id: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', error: !!o.error })}
        ${urls.forgotPassword ? html`<p><a id="forgotPassword" href="${urls.forgotPassword}">Forgot your password?</a></p>` : ''}
        <div class="actions">
          <button type="submit" id="next" name="action" value="signin">Sign in</button>
        </div>
      </form>
      ${urls.signUp ? html`<p>Don't have an account? <a id="createAccount" href="${urls.signUp}">Sign up now</a></p>` : ''}`,
  );
}

export interface ProfileValues {
  email?: string;
  givenName?: string;
  surname?: string;
  displayName?: string;
}

export function signUpPage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: { values?: ProfileValues; error?: string } = {},
): FastifyReply {
  const v = o.values ?? {};
  return send(
    reply,
    tx,
    'Sign up',
    html`<h1>Create your account</h1>
      ${errorBlock(o.error)}
      <form method="post" action="${urls.action}" id="attributeVerification" novalidate>
        ${hidden(tx)}
        ${field({ id: 'email', label: 'Email address', type: 'email', value: v.email, autocomplete: 'email' })}
        ${field({ id: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password' })}
        <p class="note" id="passwordHint">
          8 to 64 characters, with at least three of: lower case, upper case, digit, symbol.
        </p>
        ${field({ id: 'reenterPassword', label: 'Confirm new password', type: 'password', autocomplete: 'new-password' })}
        ${field({ id: 'givenName', label: 'Given name', value: v.givenName, autocomplete: 'given-name' })}
        ${field({ id: 'surname', label: 'Surname', value: v.surname, autocomplete: 'family-name' })}
        ${field({ id: 'displayName', label: 'Display name', value: v.displayName, autocomplete: 'nickname' })}
        <div class="actions">
          <button type="submit" id="continue" name="action" value="continue">Create</button>
          <button type="submit" id="cancel" name="action" value="cancel" formnovalidate>
            Cancel
          </button>
        </div>
      </form>
      ${urls.signIn ? html`<p>Already have an account? <a id="signInLink" href="${urls.signIn}">Sign in</a></p>` : ''}`,
  );
}

export function profilePage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: { values: ProfileValues; error?: string },
): FastifyReply {
  return send(
    reply,
    tx,
    'Edit profile',
    html`<h1>Edit your profile</h1>
      ${errorBlock(o.error)}
      <form method="post" action="${urls.action}" id="attributeVerification" novalidate>
        ${hidden(tx)}
        <p>Signed in as <strong id="profileEmail">${o.values.email}</strong></p>
        ${field({ id: 'givenName', label: 'Given name', value: o.values.givenName, autocomplete: 'given-name' })}
        ${field({ id: 'surname', label: 'Surname', value: o.values.surname, autocomplete: 'family-name' })}
        ${field({ id: 'displayName', label: 'Display name', value: o.values.displayName, autocomplete: 'nickname' })}
        <div class="actions">
          <button type="submit" id="continue" name="action" value="continue">Continue</button>
          <button type="submit" id="cancel" name="action" value="cancel" formnovalidate>
            Cancel
          </button>
        </div>
      </form>`,
  );
}

export function resetEmailPage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: { email?: string; error?: string } = {},
): FastifyReply {
  return send(
    reply,
    tx,
    'Reset your password',
    html`<h1>Reset your password</h1>
      <p>Enter the email address of your account; we will send it a verification code.</p>
      ${errorBlock(o.error)}
      <form method="post" action="${urls.action}" id="attributeVerification" novalidate>
        ${hidden(tx)}
        ${field({ id: 'email', label: 'Email address', type: 'email', value: o.email, autocomplete: 'username', error: !!o.error })}
        <div class="actions">
          <button type="submit" id="sendCode" name="action" value="continue">
            Send verification code
          </button>
          <button type="submit" id="cancel" name="action" value="cancel" formnovalidate>
            Cancel
          </button>
        </div>
      </form>`,
  );
}

/** Where a one-time code went: shown on the page (B2C stand-in) or left in the dev mailbox (external tenants). */
export type CodeDelivery = { devCode: string } | { mailboxUrl: string };

export function verificationCodePage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: {
    heading?: string;
    sentTo: string;
    delivery: CodeDelivery;
    error?: string;
    otherMethod?: { href: string; label: string };
  },
): FastifyReply {
  const heading = o.heading ?? 'Verify your email';
  const dev =
    'devCode' in o.delivery
      ? html`<div class="dev" role="note">
          <p>
            Development stand-in: there is no mail server, so the code is shown here:
            <span class="secret" id="devVerificationCode">${o.delivery.devCode}</span>
          </p>
        </div>`
      : html`<div class="dev" role="note">
          <p>
            Development stand-in: no mail or SMS leaves this machine; read the code in the
            <a id="devMailbox" href="${o.delivery.mailboxUrl}" target="_blank" rel="noopener"
              >development mailbox</a
            >.
          </p>
        </div>`;
  return send(
    reply,
    tx,
    heading,
    html`<h1>${heading}</h1>
      <p>A verification code was sent to <strong id="codeSentTo">${o.sentTo}</strong>.</p>
      ${dev} ${errorBlock(o.error)}
      <form method="post" action="${urls.action}" id="attributeVerification" novalidate>
        ${hidden(tx)}
        ${field({ id: 'verificationCode', label: 'Verification code', autocomplete: 'one-time-code', inputmode: 'numeric', error: !!o.error })}
        <div class="actions">
          <button type="submit" id="verifyCode" name="action" value="continue">Verify code</button>
          <button type="submit" id="cancel" name="action" value="cancel" formnovalidate>
            Cancel
          </button>
        </div>
      </form>
      ${o.otherMethod ? html`<p><a id="otherMethod" href="${o.otherMethod.href}">${o.otherMethod.label}</a></p>` : ''}`,
  );
}

export function resetPasswordPage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: { error?: string } = {},
): FastifyReply {
  return send(
    reply,
    tx,
    'Choose a new password',
    html`<h1>Choose a new password</h1>
      ${errorBlock(o.error)}
      <form method="post" action="${urls.action}" id="attributeVerification" novalidate>
        ${hidden(tx)}
        ${field({ id: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', error: !!o.error })}
        <p class="note" id="passwordHint">
          8 to 64 characters, with at least three of: lower case, upper case, digit, symbol.
        </p>
        ${field({ id: 'reenterPassword', label: 'Confirm new password', type: 'password', autocomplete: 'new-password' })}
        <div class="actions">
          <button type="submit" id="continue" name="action" value="continue">Continue</button>
          <button type="submit" id="cancel" name="action" value="cancel" formnovalidate>
            Cancel
          </button>
        </div>
      </form>`,
  );
}

export function mfaEnrolPage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: { qrDataUrl: string; secret: string; error?: string },
): FastifyReply {
  return send(
    reply,
    tx,
    'Set up your authenticator app',
    html`<h1>Set up your authenticator app</h1>
      <p>
        Scan the QR code with an authenticator app, or enter the key by hand, then type the 6-digit
        code it shows.
      </p>
      <img
        id="totpQrCode"
        src="${o.qrDataUrl}"
        width="200"
        height="200"
        alt="QR code to add this account to an authenticator app"
      />
      <p>Key: <span class="secret" id="totpSecret">${o.secret}</span></p>
      ${errorBlock(o.error)} ${totpCodeForm(tx, urls, o.error)}`,
  );
}

/** The 6-digit authenticator code form of TOTP enrolment and verification. */
function totpCodeForm(tx: AuthorizeTransaction, urls: PageUrls, error: string | undefined): Raw {
  return html`<form method="post" action="${urls.action}" id="totpForm" novalidate>
    ${hidden(tx)}
    ${field({ id: 'totpCode', label: 'Verification code', autocomplete: 'one-time-code', inputmode: 'numeric', error: !!error })}
    <div class="actions">
      <button type="submit" id="verifyTotp" name="action" value="continue">Verify</button>
      <button type="submit" id="cancel" name="action" value="cancel" formnovalidate>Cancel</button>
    </div>
  </form>`;
}

export function mfaVerifyPage(
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  urls: PageUrls,
  o: { error?: string } = {},
): FastifyReply {
  return send(
    reply,
    tx,
    'Verify your identity',
    html`<h1>Enter your verification code</h1>
      <p>Enter the 6-digit code from your authenticator app.</p>
      ${errorBlock(o.error)} ${totpCodeForm(tx, urls, o.error)}`,
  );
}

/** response_mode=form_post: auto-submitting form to the client's redirect URI. */
export function formPostPage(
  reply: FastifyReply,
  redirectUri: string,
  params: Record<string, string>,
): FastifyReply {
  return sendPage(reply, {
    title: 'Working...',
    formTarget: redirectUri,
    script: "document.getElementById('responseForm').submit();",
    body: html`<h1>Signing you in</h1>
      <form method="post" action="${redirectUri}" id="responseForm">
        ${Object.entries(params).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`)}
        <noscript
          ><p>Script is disabled. Select Continue.</p>
          <button type="submit">Continue</button></noscript
        >
      </form>`,
  });
}

export function signedOutPage(reply: FastifyReply): FastifyReply {
  return sendPage(reply, {
    title: 'Signed out',
    body: html`<h1>You have signed out</h1>
      <p id="signedOut">You can close this window.</p>`,
  });
}
