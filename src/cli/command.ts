/** Shape of one `tsr-node` sub-command. Each lives in commands/<name>.ts. */
export interface Command {
  /** One line for `tsr-node --help`. */
  summary: string;
  /** Full usage text for `tsr-node <name> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}
