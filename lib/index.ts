export * from './secure-mcp-server';
export * from './identity-provider';
export * from './scopes';
export * from './routes';
export * from './tables';
export * from './testing';
export * from './acknowledgements';
