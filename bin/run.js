#!/usr/bin/env node
// vdp-agent CLI entry: oclif discovers the compiled commands under dist/commands.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
