#!/usr/bin/env bash
# Pictures of what the report pack looks like, for the README: the dashboard and the data quality page in headless
# chromium, the province workbook's summary sheet through LibreOffice (PDF) and pdftoppm.
# Needs: apt-get install -y chromium libreoffice-calc poppler-utils; a published file (`make run`).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/tthc report
pack=$(ls -d data/published/reports/*/ | sort | tail -1)
shoot() {  # url, picture, height
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,"$3" \
    --virtual-time-budget=10000 --screenshot="$2" "$1" 2>/dev/null
}
shoot "file://$PWD/${pack}dashboard.html" docs/dashboard.png 2300
# the province of 2026 (the README's bac_ninh_2026 example, published to /tmp/bn2026/marts.duckdb), if it was run
if [ -f /tmp/bn2026/marts.duckdb ]; then
  TTHC_PUBLISHED=/tmp/bn2026/marts.duckdb .venv/bin/tthc report
  shoot "file://$(ls -d /tmp/bn2026/reports/*/ | sort | tail -1)dashboard.html" docs/dashboard_bac_ninh_2026.png 2300
fi
shoot "file://$PWD/data/published/data_docs/index.html" docs/data_quality_page.png 1500
tmp=$(mktemp -d)
soffice --headless --convert-to pdf --outdir "$tmp" "${pack}"tong_hop_*.xlsx >/dev/null 2>&1
pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$tmp"/tong_hop_*.pdf docs/workbook_summary
rm -rf "$tmp"
ls -l docs/dashboard.png docs/data_quality_page.png docs/workbook_summary.png
