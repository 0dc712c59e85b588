/**
 * A report chart drawn in the page by vega-embed from the API's vega-lite spec. Vega's default
 * expression evaluator compiles code at run time, which the page's CSP (no 'unsafe-eval')
 * forbids: the AST interpreter (vega-interpreter) evaluates expressions instead. Drawn on a
 * canvas, with vega-embed's own stylesheet and menu off (no inline style under the CSP).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import embed from "vega-embed";
import { expressionInterpreter } from "vega-interpreter";
import type { ChartSpec } from "../api-types.js";
import { Problem } from "./ui.js";

export function Chart({ chart }: { chart: ChartSpec }) {
  const el = useRef<HTMLDivElement>(null);
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    if (!el.current) return;
    let view: { finalize(): void } | undefined;
    embed(el.current, chart.spec as never, {
      ast: true,
      expr: expressionInterpreter,
      renderer: "canvas",
      actions: false,
      defaultStyle: false,
      tooltip: false,
    }).then(
      (r) => {
        view = r.view;
      },
      (e: Error) => setProblem(e.message),
    );
    return () => view?.finalize();
  }, [chart]);
  return (
    <figure class="chart" data-chart={chart.id}>
      <figcaption>{chart.title}</figcaption>
      {problem ? <Problem>{problem}</Problem> : null}
      <div ref={el} />
    </figure>
  );
}
