/** One `plenum` command. `run` resolves to the JSON it prints on stdout (undefined: it wrote stdout itself). */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  run(argv: string[]): Promise<unknown>;
}
