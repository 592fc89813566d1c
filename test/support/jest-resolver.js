// Some dependencies publish only an "import" export condition. Jest resolves CommonJS with "require",
// so for those packages we resolve with "import" and let the transform in jest.config.js compile them.
module.exports = (request, options) => {
  try {
    return options.defaultResolver(request, options);
  } catch (error) {
    if (request.startsWith('.') || request.startsWith('/')) throw error;
    return options.defaultResolver(request, { ...options, conditions: ['import', 'node', 'default'] });
  }
};
