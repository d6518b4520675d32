import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI portal at /docs (assets served from swagger-ui-dist, no CDN) and /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('redis-streamer')
    .setDescription(
      'Redis Streams on the network. Obtain a token from `POST /token`, then send it as ' +
        '`Authorization: Bearer <token>`. WebSocket endpoints are described in `docs/protocol.md`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'redis-streamer API',
    swaggerOptions: { persistAuthorization: true },
  });
}
