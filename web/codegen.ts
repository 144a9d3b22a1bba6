// GraphQL Code Generator: every `graphql(...)` document in src/ is validated against the
// supergraph and typed from it, so a schema change that breaks a page fails `npm run build`.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema/supergraph.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  errorsOnly: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: 'string', join__FieldSet: 'string', link__Import: 'unknown' },
      },
    },
  },
};

export default config;
