// Edit Profile on External ID: a server-rendered form (CSRF-checked like every POST),
// saved with Graph PATCH /me, then the tokens are renewed so My Claims shows the new values.
import { Body, Controller, Get, NotFoundException, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthService, SignInRequired } from '../auth/auth.service';
import { CustomerAuthority } from '../auth/customer-authority';
import { PENDING_TTL_MS } from '../session/session-data';
import { isHead, renderPage, sendHead } from '../web/views';
import { GraphClient, GraphRejected, GraphUnauthorized } from './graph-client';
import { profileFromBody, validateProfile, type ProfileFields } from './profile-form';

const NOT_SAVED_YET =
  'You signed in again. Your changes are not saved yet: check them and save again.';

/** Delegated Graph permission to edit the signed-in user's own profile. */
export const GRAPH_PROFILE_SCOPE = 'User.ReadWrite';

@Controller('profile')
export class ProfileController {
  constructor(
    private readonly auth: AuthService,
    private readonly authority: CustomerAuthority,
    private readonly graph: GraphClient,
  ) {}

  private async graphToken(req: FastifyRequest): Promise<string> {
    // B2C edits profiles in its own user flow (/auth/edit-profile): nothing here.
    if (this.authority.kind !== 'external-id') throw new NotFoundException();
    if (!req.portalSession.existing?.user) throw new SignInRequired();
    return this.auth.apiToken(req.portalSession, GRAPH_PROFILE_SCOPE);
  }

  @Get()
  async form(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (isHead(req)) {
      if (this.authority.kind !== 'external-id') throw new NotFoundException();
      if (!req.portalSession.existing?.user) throw new SignInRequired();
      return void (await sendHead(reply));
    }
    const token = await this.graphToken(req);
    // Names typed on a save that needed a new sign-in: shown once, instead of the directory's,
    // within 15 minutes of that sign-in (later, they would overwrite whatever was saved since).
    const data = req.portalSession.data;
    const draft = data.profileDraft;
    if (draft) data.profileDraft = undefined;
    const fresh = draft && Date.now() - draft.createdAt < PENDING_TTL_MS ? draft : undefined;
    const profile = fresh?.fields ?? (await this.withGraph(() => this.graph.getMe(token, req.id)));
    await this.render(req, reply, profile, []);
  }

  @Post()
  async save(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: unknown,
  ): Promise<void> {
    if (this.authority.kind !== 'external-id') throw new NotFoundException();
    if (!req.portalSession.existing?.user) throw new SignInRequired();
    const profile = profileFromBody(body);
    const { errors, fieldErrors } = validateProfile(profile);
    if (errors.length) return this.render(req, reply, profile, errors, 400, fieldErrors);
    try {
      const token = await this.graphToken(req);
      await this.withGraph(() => this.graph.patchMe(token, req.id, profile));
    } catch (e) {
      if (e instanceof GraphRejected) return this.render(req, reply, profile, [e.message], 400);
      // The tokens were refused: sign in again, then the form with what was typed (not saved).
      if (e instanceof SignInRequired)
        return void (await reply.redirect(
          await this.auth.signInAgain(req.portalSession, '/profile', {
            profile: { fields: profile, createdAt: Date.now() },
            flash: { kind: 'info', message: NOT_SAVED_YET },
          }),
          303,
        ));
      throw e;
    }
    const updated = { kind: 'success', message: 'Your profile was updated.' } as const;
    req.log.info({ oid: req.portalSession.data.user?.oid }, 'profile updated');
    try {
      await this.auth.refreshClaims(req.portalSession);
    } catch (e) {
      // Saved, but the new claims need a new sign-in: which says so when it comes back.
      if (!(e instanceof SignInRequired)) throw e;
      return void (await reply.redirect(
        await this.auth.signInAgain(req.portalSession, '/claims', { flash: updated }),
        303,
      ));
    }
    req.portalSession.data.flash = updated;
    await reply.redirect('/claims', 303);
  }

  private async withGraph<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof GraphUnauthorized) throw new SignInRequired();
      throw e;
    }
  }

  private async render(
    req: FastifyRequest,
    reply: FastifyReply,
    profile: ProfileFields,
    errors: string[],
    status = 200,
    fieldErrors: Record<string, string> = {},
  ): Promise<void> {
    await renderPage(
      req,
      reply,
      'profile',
      'Edit Profile',
      { profile, errors, fieldErrors },
      status,
    );
  }
}
