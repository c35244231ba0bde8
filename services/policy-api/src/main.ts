import 'reflect-metadata';
import { bootService } from '@idp/service-kit';
import { AppModule } from './app.module';
import { loadPolicyApiConfig } from './config';

void bootService({ name: 'policy-api', loadConfig: () => loadPolicyApiConfig(), module: (c) => AppModule.forRoot(c) });
