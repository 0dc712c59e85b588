/** The dashboard's single-page app: navigation and the route table. */
import { render } from "preact";
import { AnnotatePage } from "./pages/annotate.js";
import { ExperimentPage } from "./pages/experiment.js";
import { ExperimentsPage } from "./pages/experiments.js";
import { SamplesPage } from "./pages/samples.js";
import { TranscriptPage } from "./pages/transcript.js";
import { type Location, useLocation } from "./router.js";
import { Link } from "./ui.js";

/**
 * The pages by path. Still to come (issue 18), routed here once they exist: /compare (side by
 * side), /data (MSM corpora and AFT sets), /specs (a spec and spec diff).
 */
function page(loc: Location) {
  if (loc.path === "/") return <ExperimentsPage />;
  const experiment = /^\/experiments\/([^/]+)$/.exec(loc.path);
  if (experiment) return <ExperimentPage id={decodeURIComponent(experiment[1] as string)} />;
  if (loc.path === "/samples") return <SamplesPage query={loc.query} />;
  if (loc.path === "/transcript") return <TranscriptPage query={loc.query} />;
  if (loc.path === "/annotate") return <AnnotatePage query={loc.query} />;
  return (
    <section>
      <h1>No page here</h1>
      <p>
        <Link href="/">Back to the experiments</Link>
      </p>
    </section>
  );
}

function App() {
  const loc = useLocation();
  return (
    <>
      <header class="top">
        <Link href="/" class="brand">
          specsci view
        </Link>
        <nav>
          <Link href="/">Experiments</Link>
          <Link href="/samples">Samples</Link>
          <Link href="/annotate">Annotate</Link>
        </nav>
      </header>
      <main>{page(loc)}</main>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
