export * from './address-policy';
export * from './cache-control';
export * from './document';
export * from './errors';
export * from './fetcher';
export * from './pinned-get';
export * from './url';
