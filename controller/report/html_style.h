// The report page's stylesheet, inlined into report.html (no external assets, system fonts
// only). Print rules keep tables and charts on paper when the report is printed to PDF.
#pragma once

namespace netrig::controller::report {

inline constexpr char kReportCss[] = R"css(
:root { --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --head: #0b2545; --accent: #13315c;
        --pass: #15803d; --fail: #b91c1c; --warn: #b45309; --neutral: #4b5563; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
             sans-serif; }
main { max-width: 1180px; margin: 0 auto; background: #fff; padding: 0 32px 24px;
       box-shadow: 0 1px 4px rgba(0, 0, 0, .08); }
header.top { display: flex; justify-content: space-between; align-items: center; gap: 24px;
             margin: 0 -32px; padding: 22px 32px; background: var(--head); color: #fff; }
header.top h1 { margin: 4px 0; font-size: 26px; font-weight: 600; word-break: break-word; }
.brand { font-size: 12px; letter-spacing: .08em; text-transform: uppercase; opacity: .75; }
.sub { font-size: 13px; opacity: .85; }
.verdict .badge { font-size: 18px; padding: 8px 18px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 4px; color: #fff;
         font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.warn { background: var(--warn); } .badge.neutral { background: var(--neutral); }
section { margin-top: 26px; }
section.meta { margin-top: 16px; }
h2 { font-size: 18px; color: var(--accent); border-bottom: 2px solid var(--accent);
     padding-bottom: 4px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.kv dt { color: var(--muted); font-weight: 600; }
dl.kv dd { margin: 0; word-break: break-word; }
.scroll { overflow-x: auto; }
table.data { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.data th { background: #eef2f7; color: var(--accent); text-align: left; font-weight: 600;
                font-size: 12px; padding: 6px 8px; border-bottom: 2px solid #cbd5e1;
                white-space: nowrap; }
table.data td { padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.data tbody tr:nth-child(even) { background: #f9fafb; }
table.data tr.group th { text-align: center; border-bottom: 1px solid #cbd5e1; }
table.data tr.group th:empty { border-bottom: none; }
table.compact td { font-size: 12px; padding: 3px 6px; white-space: nowrap; }
table.compact td:last-child, table.compact .why { white-space: normal; min-width: 14em; }
figure { margin: 18px 0; padding: 12px; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 6px; }
svg.chart { display: block; width: 100%; height: auto; max-width: 760px; margin: 0 auto; }
pre.json { background: #f8fafc; border: 1px solid var(--line); border-radius: 6px;
           padding: 12px; overflow-x: auto; font-size: 12px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       font-size: 12px; }
.headline { font-size: 15px; }
.muted, .nodata { color: var(--muted); }
footer { margin-top: 32px; padding-top: 10px; border-top: 1px solid var(--line);
         color: var(--muted); font-size: 12px; }
@media print {
  body { background: #fff; }
  main { box-shadow: none; max-width: none; }
  header.top { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure, table { break-inside: avoid; }
}
)css";

}  // namespace netrig::controller::report
