/**
 * The config file (docs/architecture.md "The config file"): load, include, substitute and
 * validate a jabberd config, and read module options with units.
 */
export { type Config, type ConfigIo, loadConfig, loadConfigText, type LoadResult } from "./load.ts";
export {
  formatProblem,
  type Positions,
  type Problem,
  sortProblems,
  type SourcePosition,
} from "./problem.ts";
export {
  type ModuleConfig,
  type SectionConfig,
  validateConfig,
  type ValidationResult,
} from "./validate.ts";
export { parseDuration, parseSize } from "./units.ts";
export { type EnvReader, substitute, substituteTree } from "./substitute.ts";
export { DEFAULT_CONFIG, DEFAULT_CONFIG_PATH } from "./default_config.ts";
