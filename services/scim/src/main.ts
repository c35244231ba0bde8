import 'reflect-metadata';
import { bootService } from '@idp/service-kit';
import { AppModule } from './app.module';
import { loadScimConfig } from './config';

void bootService({ name: 'scim', loadConfig: () => loadScimConfig(), module: (c) => AppModule.forRoot(c) });
