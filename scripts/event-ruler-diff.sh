#!/usr/bin/env bash
# Compares eventrouter's matcher with event-ruler (the library behind EventBridge) on random
# (pattern, event) pairs, and prints every pair on which they answer differently.
#
#   EVENT_RULER_SRC=~/src/event-ruler scripts/event-ruler-diff.sh [SEED] [COUNT] [operators|nesting]
#
# Needs a checkout of aws/event-ruler (tag v2.0.1 is what docs/patterns.md compares with), a
# JDK and Debian's libjackson2-databind-java and libjsr305-java, and a built build/eventrouter.
# Not part of the test suite: event-ruler is not a Debian package. docs/patterns.md ("Known
# differences") lists the differences that are event-ruler's own defects.
set -euo pipefail
scripts="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$scripts")"
here="$scripts/event-ruler-diff"
seed="${1:-1}" count="${2:-1500}" mode="${3:-operators}"
: "${EVENT_RULER_SRC:?set EVENT_RULER_SRC to a checkout of aws/event-ruler}"
binary="${EVENTROUTER_BIN:-$root/build/eventrouter}"
jars=/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar
jars=$jars:/usr/share/java/jackson-annotations.jar:/usr/share/java/jsr305.jar
for jar in ${jars//:/ }; do
  [[ -f $jar ]] || { echo "missing $jar: apt-get install libjackson2-databind-java libjsr305-java" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# event-ruler's sources, built as they are except for one number parser from a library Debian
# does not package (the JDK's BigDecimal parses the same numbers).
cp -r "$EVENT_RULER_SRC/src/main" "$work/src"
sed -i 's/^import ch.randelshofer.fastdoubleparser.JavaBigDecimalParser;//;
        s/JavaBigDecimalParser.parseBigDecimal(/new java.math.BigDecimal(/' \
  "$work/src/software/amazon/event/ruler/ComparableNumber.java"
mkdir "$work/classes"
javac -nowarn -encoding UTF-8 -d "$work/classes" -cp "$jars" \
  $(find "$work/src" -name '*.java') "$here/Check.java" 2> "$work/javac.log" ||
  { cat "$work/javac.log" >&2; exit 2; }

python3 "$here/generate.py" "$seed" "$count" "$mode" > "$work/pairs"
java -cp "$work/classes:$jars" Check < "$work/pairs" > "$work/ruler"
while IFS=$'\t' read -r pattern event; do
  set +e
  "$binary" test-pattern --pattern "$pattern" --event "$event" > /dev/null 2>&1
  status=$?
  set -e
  case $status in 0) echo true ;; 1) echo false ;; *) echo ERROR ;; esac
done < "$work/pairs" > "$work/ours"

paste "$work/ruler" "$work/ours" "$work/pairs" |
  awk -F'\t' '{ ruler = $1; if (ruler ~ /^ERROR/) ruler = "ERROR";
               if (ruler != $2) { print "event-ruler " $1 ", eventrouter " $2 ": " $3 "  " $4; n++ } }
             END { printf "%d of %d pairs differ\n", n, NR > "/dev/stderr" }'
