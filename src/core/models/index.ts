/** Models users choose by name: the catalog, chat-message counts and prices (see each file). */
export * from './catalog';
export * from './chat';
export * from './prices';
