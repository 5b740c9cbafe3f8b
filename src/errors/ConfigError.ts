/** The configuration or an installed model is invalid; the node refuses to start. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super(message);
  }
}
