/**
 * The benchmark groups `deno task bench` knows, in the order they run.
 *
 * To add a group (e.g. the runner's backtest evaluations/s, sharing, live
 * latency): write `bench/groups/<name>.ts` exporting a {@linkcode BenchGroup}
 * (see `bench/harness/types.ts` and any group here as a model: a quick mode
 * with tiny sizes, figures with a peer from the same run where one exists,
 * targets as stated in the issue), then add it to {@linkcode BENCH_GROUPS}
 * below. `--only <name>` selects it, results.md gets its section, and the
 * smoke test (tests/bench/bench_smoke_test.ts) runs its quick mode.
 *
 * @module
 */

import type { BenchGroup } from "../harness/types.ts";
import { contractsGroup } from "./contracts.ts";
import { httpGroup } from "./http.ts";
import { queueGroup } from "./queue.ts";
import { registryGroup } from "./registry.ts";
import { liveGroup, runnerGroup } from "./runner.ts";
import { submitGroup } from "./submit.ts";

/** Every group, in run order. Runner groups go after `queue`. */
export const BENCH_GROUPS: readonly BenchGroup[] = [
  httpGroup,
  submitGroup,
  registryGroup,
  queueGroup,
  runnerGroup,
  liveGroup,
  contractsGroup,
];
