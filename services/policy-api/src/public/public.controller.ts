import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '@idp/auth-common';

class PublicView {
  @ApiProperty() message!: string;
  @ApiProperty() service!: string;
  @ApiProperty({ format: 'date-time' }) time!: string;
}

@ApiTags('public')
@Controller('public')
export class PublicController {
  @Get()
  @Public()
  @ApiOperation({ summary: 'Unauthenticated reachability check (the portal’s “Test API” link)' })
  @ApiOkResponse({ type: PublicView })
  get(): PublicView {
    return {
      message: 'policy-api is reachable; this endpoint needs no token',
      service: 'policy-api',
      time: new Date().toISOString(),
    };
  }
}
