/**
 * If: the condition is read at run time (a host value when known, else one scalar from the device)
 * and the chosen branch runs as a subgraph over this graph's values. Branch outputs may be
 * sequences or optionals (opset 13+ and 16+ types): they pass through as they are.
 */
import { numbers } from '../host.js';
import { registerAny } from './registry.js';

registerAny('If', 1, async (ctx) => {
  const cond = numbers(await ctx.host(0));
  if (cond.length !== 1) ctx.fail(`the condition must hold one value, got ${cond.length}`);
  const branch = cond[0] ? 'then_branch' : 'else_branch';
  const outs = await ctx.runGraph(ctx.attr.graph(branch), [], `If ${JSON.stringify(ctx.node.name)}'s ${branch}`);
  if (outs.length !== ctx.node.outputs.length) ctx.fail(`${branch} gives ${outs.length} outputs for the node's ${ctx.node.outputs.length}`);
  return outs;
});
