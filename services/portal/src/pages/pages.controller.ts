import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignInRequired } from '../auth/auth.service';
import { CustomerAuthority } from '../auth/customer-authority';
import { PolicyClient } from '../policy/policy-client';
import { renderPage } from '../web/views';
import { display } from './display';

@Controller()
export class PagesController {
  constructor(
    private readonly api: PolicyClient,
    private readonly authority: CustomerAuthority,
  ) {}

  @Get()
  async home(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await renderPage(req, reply, 'home', 'Home', {});
  }

  @Get('claims')
  async claims(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const user = req.portalSession.existing?.user;
    if (!user) throw new SignInRequired();
    const claims = Object.entries(user.claims).map(([k, v]) => [k, display(v)]);
    await renderPage(req, reply, 'claims', 'My Claims', {
      claims,
      providerName: this.authority.providerName,
    });
  }

  @Get('test-api')
  async testApi(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const r = await this.api.getPublic(req.id);
    await renderPage(req, reply, 'test-api', 'Test API', {
      status: r.status,
      body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2),
    });
  }
}
