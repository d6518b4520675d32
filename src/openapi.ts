import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI portal at /docs (assets served from swagger-ui-dist, no CDN) and /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('redis-streamer')
    .setDescription(
      'Redis Streams on the network. Obtain a token from `POST /token`, then send it as ' +
        '`Authorization: Bearer <token>`. The WebSocket push/pull and Server-Sent Events endpoints are ' +
        'described in the AsyncAPI document [/asyncapi.json](/asyncapi.json) (it needs the token too: add ' +
        '`?token=<token>` when opening it in a browser) and in `docs/protocol.md`.',
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
