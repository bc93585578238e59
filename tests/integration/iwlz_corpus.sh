#!/usr/bin/env bash
# The iWlz scenario corpus, end to end: tests/fixtures/iwlz/corpus/ecd-scenarios.csv
# (ECD rows covering every Mutatiecode, every Leveringsvorm, ZZP/VPT/MPT/DTV and
# functions, starts, ends, changes, cancellations, Aanvragen (requests for an
# adjusted zorgtoewijzing, every Soort and optional part), plus one deliberately broken
# row per official rule) goes through zinvold --once with the demo's mapping
# (conf/demo/mapping-ecd.json) and catalogues to two zorgkantoor destinations:
# one with zinvol's own rules, one with own_rules off (the official rule set,
# run in the plugin, alone decides).  Then, independently of zinvol:
#   - every message passes the bundled XSD (xmllint) and the bundled official
#     rule set (xsltproc) with 0 errors;
#   - every good row is in a message, every broken row is in quarantine with
#     the official code its "expect" column names - in both destinations.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
SRC=${ZV_SOURCE_DIR:?}
rel=$SRC/plugins/fmt_iwlz/releases/2.2
corpus=$SRC/tests/fixtures/iwlz/corpus/ecd-scenarios.csv
work=$(mktemp -d /tmp/zv-iwlz-corpus-XXXXXX)
trap '[ -n "${ZV_KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$work/inbox" "$work/out-own" "$work/out-official"
cp "$corpus" "$work/inbox/"

python3 - "$SRC" "$work" <<'PY'
import json, sys
src, work = sys.argv[1:]
mapping = json.load(open(src + "/tests/fixtures/iwlz/corpus/mapping.json"))
def dest(name, own):
    return {"name": name, "format": "iwlz", "transport": "filedrop",
            "match": {"entitlement.funder": "5501"},
            "format_options": {"release_dir": src + "/plugins/fmt_iwlz/releases/2.2",
                               "zorgkantoor": "5501", "own_rules": own},
            "transport_options": {"dir": work + "/out-" + name[3:]},
            "policy": {"threshold": "contract", "schedule": "event"}}
conf = {"state_dir": work + "/state", "catalogue_dir": src + "/conf/catalogue",
        "log_level": "info", "organisation": {"agb": "12345678", "name": "Corpus"},
        "sources": [{"name": "ecd", "type": "filedrop", "mapping": mapping,
                     "options": {"directory": work + "/inbox", "delimiter": ";", "settle": "0s"}}],
        "destinations": [dest("zk-own", True), dest("zk-official", False)]}
json.dump(conf, open(work + "/corpus.conf", "w"), indent=1)
PY
export ZINVOL_PLUGIN_DIR=$BUILD/plugins
status=0
"$BUILD/zinvold" --once --config "$work/corpus.conf" 2>"$work/zinvold.log" || status=$?
[ "$status" -eq 0 ] || { tail -20 "$work/zinvold.log"; fail "zinvold --once exited $status"; }
if grep -E '\] (error|warning) ' "$work/zinvold.log" | grep -v 'quarantin' | grep -q .; then
    grep -E '\] (error|warning) ' "$work/zinvold.log" | head; fail "errors or warnings in the log"
fi
"$BUILD/zinvolctl" -c "$work/corpus.conf" quarantine list >"$work/quarantine.txt"

python3 - "$work" "$rel" "$corpus" <<'PY'
import csv, glob, re, subprocess, sys
work, rel, corpus = sys.argv[1:]
rows = list(csv.DictReader(open(corpus, encoding="utf-8"), delimiter=";"))
bad = {r["leveringsnummer"]: r["expect"] for r in rows if r["expect"]}
good = [r for r in rows if not r["expect"]]
quar = {}
for line in open(work + "/quarantine.txt"):
    m = re.match(r"\s*\d+\s+\S+\s+\S+\s+(\S+)\s+ecd/(\S+)\s+(\S+)", line)
    if m:
        quar.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
problems = []
total = {"messages": 0, "clients": 0, "products": 0, "errors": 0}
for d in ("zk-own", "zk-official"):
    files = sorted(glob.glob(f"{work}/out-{d[3:]}/*"))
    products = 0
    for f in files:
        text = open(f, encoding="utf-8").read()
        code = re.search(r"<BerichtCode>(\d+)<", text).group(1)
        msg = {"354": "AW35", "358": "AW39"}[code]
        x = subprocess.run(["xmllint", "--noout", "--schema", f"{rel}/xsd/{msg}.xsd", f],
                           capture_output=True, text=True)
        if x.returncode != 0:
            problems.append(f"{d} {f}: XSD: {x.stderr.strip()[:300]}")
        r = subprocess.run(["xsltproc", f"{msg}.xsl", f], cwd=f"{rel}/xslt/wlz/2_2",
                           capture_output=True, text=True, check=True)
        errors = re.findall(r"<r:Code>\s*([A-Z0-9]+)\s*</r:Code>", r.stdout)
        if errors:
            problems.append(f"{d} {f}: official rules: {errors}")
        n = len(re.findall(r"<((Geleverde?|Mutatie)(Functie|Zorgzwaartepakket)|Aanvraag)>", text))
        products += n
        total["messages"] += 1
        total["clients"] += text.count("<Client>")
        total["products"] += n
        total["errors"] += len(errors)
    if products != len(good):
        problems.append(f"{d}: {products} products sent, {len(good)} good rows")
    got = quar.get(d, {})
    if got != bad:
        problems.append(f"{d}: quarantine {sorted(got.items())} != expected {sorted(bad.items())}")
sent = "".join(open(f, encoding="utf-8").read() for f in glob.glob(f"{work}/out-own/*"))
for code in ("12", "17", "18", "19", "20", "21"):
    if f"<Mutatiecode>{code}<" not in sent:
        problems.append(f"no Mutatiecode {code} sent")
for lv in ("4", "5", "7", "8"):
    if f"<Leveringsvorm>{lv}<" not in sent:
        problems.append(f"no Leveringsvorm {lv} sent")
for element in ("InstellingBestemming", "LeveringsstatusClassificatie", "Etmalen", "DatumGebruik",
                "<StatusAanlevering>3<", "Sleuteldatum", "Opslag", "Behandeling",
                # the Aanvraag (aanvraag aangepaste zorgtoewijzing) and its parts
                "<Aanvraag>", "<Afgiftedatum>", "<Soort>3<", "ToewijzingEinddatum",
                "ToewijzingPercentage", "<Opname>1<", "Dossierhouder", "CoordinatorZorgThuis",
                "<Doelmatig>2<", "<Verantwoord>1<", "ExtraKostenThuis", "ToeslagBeademing",
                "ToeslagOverig"):
    if element not in sent:
        problems.append(f"no {element} sent")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"iwlz corpus: {len(rows)} rows ({len(good)} good, {len(bad)} broken); two destinations: "
      f"{total['messages']} messages, {total['clients']} clients, {total['products']} products, "
      f"{total['errors']} official-rule errors; every broken row quarantined with its official "
      f"code ({', '.join(sorted(set(bad.values())))}) by zinvol's rules and by the official set alone")
PY
