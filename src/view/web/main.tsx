/** The dashboard's single-page app: navigation and the route table. */
import { render } from "preact";
import { AnnotatePage } from "./pages/annotate.js";
import { ComparePage } from "./pages/compare.js";
import { DataComparePage, DataSetPage, DataSetsPage } from "./pages/data.js";
import { ExperimentPage } from "./pages/experiment.js";
import { ExperimentsPage } from "./pages/experiments.js";
import { SamplesPage } from "./pages/samples.js";
import { SpecDiffPage, SpecPage, SpecsPage } from "./pages/specs.js";
import { TranscriptPage } from "./pages/transcript.js";
import { type Location, useLocation } from "./router.js";
import { Link } from "./ui.js";

/** The pages by path. */
function page(loc: Location) {
  if (loc.path === "/") return <ExperimentsPage />;
  const experiment = /^\/experiments\/([^/]+)$/.exec(loc.path);
  if (experiment) return <ExperimentPage id={decodeURIComponent(experiment[1] as string)} />;
  if (loc.path === "/samples") return <SamplesPage query={loc.query} />;
  if (loc.path === "/transcript") return <TranscriptPage query={loc.query} />;
  if (loc.path === "/annotate") return <AnnotatePage query={loc.query} />;
  const other = otherPage(loc);
  if (other) return other;
  return (
    <section>
      <h1>No page here</h1>
      <p>
        <Link href="/">Back to the experiments</Link>
      </p>
    </section>
  );
}

const part = (s: string | undefined) => decodeURIComponent(s as string);

/** Side by side, Data and Specs. */
function otherPage(loc: Location) {
  if (loc.path === "/compare") return <ComparePage query={loc.query} />;
  if (loc.path === "/data") return <DataSetsPage />;
  if (loc.path === "/data/compare") return <DataComparePage query={loc.query} />;
  const set = /^\/data\/([^/]+)$/.exec(loc.path);
  if (set) return <DataSetPage id={part(set[1])} query={loc.query} />;
  if (loc.path === "/specs") return <SpecsPage />;
  const diff = /^\/specs\/([^/]+)\/([^/]+)\/diff\/([^/]+)$/.exec(loc.path);
  if (diff) return <SpecDiffPage experiment={part(diff[1])} a={part(diff[2])} b={part(diff[3])} />;
  const spec = /^\/specs\/([^/]+)\/([^/]+)$/.exec(loc.path);
  if (spec) return <SpecPage experiment={part(spec[1])} spec={part(spec[2])} />;
  return null;
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
          <Link href="/data">Data</Link>
          <Link href="/specs">Specs</Link>
          <Link href="/annotate">Annotate</Link>
        </nav>
      </header>
      <main>{page(loc)}</main>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
