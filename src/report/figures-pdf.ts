/**
 * Figures as PDF: vega's SVG drawn into a PDF page by svg-to-pdfkit, its text in DejaVu Sans
 * (shipped by the dejavu-fonts-ttf package; its licence allows redistribution) embedded as a
 * TrueType subset. vega lays the figures out with the same font's metrics, so what it measured
 * is what the PDF shows.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** The figures' font: the family named in their specs and the TrueType files embedded. */
export const PRINT_FONT = {
  family: "DejaVu Sans",
  regular: "dejavu-fonts-ttf/ttf/DejaVuSans.ttf",
  bold: "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf",
} as const;

const fontFile = (spec: string) => createRequire(import.meta.url).resolve(spec);

/** pdfkit and svg-to-pdfkit are loaded for the first figure, not when the CLI starts. */
const pdfing = async () => {
  const [{ default: PDFDocument }, { default: SVGtoPDF }] = await Promise.all([
    import("pdfkit"),
    import("svg-to-pdfkit"),
  ]);
  return { PDFDocument, SVGtoPDF };
};

type Doc = PDFKit.PDFDocument;

/** Registers the print font (regular and bold) with a document under the names "regular" and "bold". */
function registerFonts(doc: Doc) {
  doc.registerFont("regular", readFileSync(fontFile(PRINT_FONT.regular)));
  doc.registerFont("bold", readFileSync(fontFile(PRINT_FONT.bold)));
}

/** The fields of a vega text item that its width depends on. */
interface TextItem {
  font?: string;
  fontSize?: number | string;
  fontWeight?: string | number;
  limit?: number;
}
interface TextMetrics {
  width: (item: TextItem, text?: unknown) => number;
  estimateWidth: (item: TextItem, text?: unknown) => number;
}

let measuring: Promise<void> | undefined;

/**
 * Makes vega measure text set in the print font with that font's own advance widths (vega has no
 * canvas here and would otherwise guess 0.8 em a character); text in any other font keeps vega's
 * estimate, so the HTML report's charts are laid out as before. vega's measure is global, hence
 * the dispatch on the item's font.
 */
export function installFigureFontMetrics(): Promise<void> {
  measuring ??= (async () => {
    const [{ PDFDocument }, vega] = await Promise.all([pdfing(), import("vega")]);
    const doc = new PDFDocument({ autoFirstPage: false });
    registerFonts(doc);
    // vega exports vega-scenegraph's textMetrics (vl-convert sets it the same way); its typings omit it.
    const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
    const estimate = metrics.estimateWidth;
    const measure: TextMetrics["width"] = (item, text) => {
      if (item.font !== PRINT_FONT.family) {
        // vega truncates by its estimate only while the estimate is its measure (else it calls
        // this measure back, for ever): so it is, for this synchronous call.
        metrics.width = estimate;
        try {
          return estimate(item, text);
        } finally {
          metrics.width = measure;
        }
      }
      const line = text == null ? "" : String(text).trim();
      const bold = item.fontWeight === "bold" || Number(item.fontWeight) >= 600;
      const size = item.fontSize == null ? 11 : Number(item.fontSize) || 0;
      const width = doc
        .font(bold ? "bold" : "regular")
        .fontSize(size)
        .widthOfString(line);
      // vega truncates a label past its limit to at most the limit: that is the width it takes.
      return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
    };
    metrics.width = measure;
  })();
  return measuring;
}

/** A PDF `width` × `height` points (the figure centred across it), its text in the embedded font. */
export async function figurePdf(
  svg: string,
  page: { width: number; height: number; title: string },
): Promise<Buffer> {
  const { PDFDocument, SVGtoPDF } = await pdfing();
  const doc = new PDFDocument({
    size: [page.width, page.height],
    margin: 0,
    info: { Title: page.title, Creator: "specsci" },
  });
  registerFonts(doc);
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((done, fail) => {
    doc.on("end", done);
    doc.on("error", fail);
  });
  const svgWidth = Number(/^<svg[^>]*?\swidth="([\d.]+)"/.exec(svg)?.[1] ?? page.width);
  SVGtoPDF(doc, svg, Math.max(0, (page.width - svgWidth) / 2), 0, {
    assumePt: true,
    fontCallback: (_family: string, bold: boolean) => (bold ? "bold" : "regular"),
  });
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
