/**
 * The one file that imports Hono (the HTTP router of the http component): replacing it touches
 * this folder only.
 */
export { Hono } from "hono";
export type { Context, MiddlewareHandler } from "hono";
