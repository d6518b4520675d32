import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { DevicesModule } from '../devices/devices.module';
import { StreamsModule } from '../streams/streams.module';
import { DataFeeds } from './data-feeds.service';
import { DataResolver } from './data.resolver';
import { DevicesResolver } from './devices.resolver';
import { formatError } from './graphql-errors';
import { StreamDirectory } from './stream-directory.service';
import { StreamsResolver } from './streams.resolver';
import { SubscriptionServer } from './subscription.server';
import { graphqlIntrospection, httpValidationRules } from './validation';

/** The schema is written to the repository root (committed) whenever the service starts outside production. */
const SCHEMA_FILE = join(__dirname, '..', '..', 'schema.graphql');

function graphqlOptions(config: AppConfig): ApolloDriverConfig {
  return {
    path: '/graphql',
    autoSchemaFile: config.get('NODE_ENV') === 'production' ? true : SCHEMA_FILE,
    sortSchema: true,
    buildSchemaOptions: { addNewlineAtEnd: true },
    introspection: graphqlIntrospection(config),
    // No landing page: the playgrounds load their code from a CDN. Use any GraphQL client.
    playground: false,
    validationRules: httpValidationRules(),
    // Errors are mapped by formatError (HTTP) and toClientError (WebSocket) alike.
    autoTransformHttpErrors: false,
    formatError,
    includeStacktraceInErrorResponses: false,
    // Subscriptions are served by SubscriptionServer on the shared upgrade router, not by Apollo.
    subscriptions: undefined,
    installSubscriptionHandlers: false,
  };
}

/** GraphQL schema, resolvers and subscriptions. */
@Module({
  imports: [
    StreamsModule,
    DevicesModule,
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [AppConfig],
      useFactory: graphqlOptions,
    }),
  ],
  providers: [StreamDirectory, DataFeeds, StreamsResolver, DevicesResolver, DataResolver, SubscriptionServer],
})
export class GraphqlApiModule {}
