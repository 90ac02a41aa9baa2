/** The server's name and version, as `jabberd version` and XEP-0092 report them. */
export const NAME = "jabberd for Deno";
export const VERSION = "0.1.0";
