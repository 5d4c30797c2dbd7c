#!/usr/bin/env bash
# core/ is the headless library: it must not include anything from QtWidgets (or Charts).
set -euo pipefail
root=${1:-$(dirname "$0")/..}
if hits=$(grep -rnE '#\s*include\s*[<"](QtWidgets/|QtCharts/|QWidget|QApplication|QMessageBox|QMainWindow|QDialog)' \
        "$root/core"); then
    echo "core/ must stay headless; these lines include widgets:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "core/ includes nothing from QtWidgets"
