"""Random (pattern, event) pairs for comparing eventrouter with event-ruler, one a line as
PATTERN<TAB>EVENT. Usage: generate.py SEED COUNT [operators|nesting]

operators: every operator over values chosen to sit on their edges (case forms, numbers past
           the double range, IP literals of both families, wildcards), with $or now and then.
nesting:   nested objects, arrays of objects, $or inside $or, exists and anything-but."""
import json
import random
import sys

rng = random.Random(int(sys.argv[1]))
COUNT = int(sys.argv[2])
MODE = sys.argv[3] if len(sys.argv) > 3 else "operators"

STRINGS = ["alpha", "Alpha", "ALPHA", "alp", "beta", "a*b", "", "10.0.0.1", "10.0.1.200",
           "192.168.1.1", "2001:db8::1", "2001:DB8:0::1", "a00::1", "::ffff:10.0.0.1", "x.png",
           "y.PNG", "straße", "STRASSE", "İx", "i\u0307X", "010.0.0.01", "us-east-1"]
NUMBERS = ["0", "1", "-1", "2.5", "5", "10", "100", "1e3", "301.8", "-0.0", "1e20", "1e400",
           "9007199254740993", "1.00000000000000000001", "5e-324", "0.1", "1E2", "1.0", "2e23"]
FIELDS = ["a", "b", "c"]


def text(value):
    return json.dumps(value, ensure_ascii=False)


def leaf():
    pick = rng.randrange(16)
    s = rng.choice(STRINGS)
    if pick == 0:
        return text(s)
    if pick == 1:
        return rng.choice(NUMBERS)
    if pick == 2:
        return text({"prefix": s[:rng.randrange(4)]})
    if pick == 3:
        return text({"suffix": s[len(s) - min(len(s), rng.randrange(4)):]})
    if pick == 4:
        return text({"equals-ignore-case": rng.choice(["alpha", "straße", "İx", "ﬁx", "x.PNG"])})
    if pick == 5:
        return text({"prefix": {"equals-ignore-case": rng.choice(["AL", "stra", "İ"])}})
    if pick == 6:
        return text({"suffix": {"equals-ignore-case": rng.choice(["HA", "ße", ".png"])}})
    if pick == 7:
        return text({"anything-but": s})
    if pick == 8:
        return '{"anything-but":[%s,%s]}' % (rng.choice(["0", "1", "5", "2.5"]),
                                             rng.choice(["100", "1e20", "5"]))
    if pick == 9:
        bounds = rng.choice(['[">",0]', '[">=",5,"<",100]', '["=",301.8]', '["<",-0.5]',
                             '[">",1e19]', '["<",2e23]'])
        return '{"numeric":%s}' % bounds
    if pick == 10:
        return text({"exists": rng.choice([True, False])})
    if pick == 11:
        return text({"cidr": rng.choice(["10.0.0.0/8", "10.0.0.0/24", "2001:db8::/32",
                                         "a00::/16", "0.0.0.0/0", "::/0", "10.0.0.5/30"])})
    if pick == 12:
        return text({"wildcard": rng.choice(["a*", "*a", "*ph*", "al*a", "*", "x.*", "10.*.1"])})
    if pick == 13:
        return "null"
    if pick == 14:
        return text({"anything-but": {"prefix": rng.choice(["al", "10.", "x"])}})
    return text({"anything-but": {"equals-ignore-case": rng.choice(["ALPHA", "straße"])}})


def condition():
    return "[" + ",".join(leaf() for _ in range(1 + rng.randrange(2))) + "]"


def value():
    pick = rng.randrange(5)
    if pick < 2:
        return text(rng.choice(STRINGS))
    if pick == 2:
        return rng.choice(NUMBERS)
    if pick == 3:
        return rng.choice(["true", "false", "null"])
    items = [text(rng.choice(STRINGS)) if rng.random() < 0.6 else rng.choice(NUMBERS)
             for _ in range(1 + rng.randrange(3))]
    return "[" + ",".join(items) + "]"


def operators_pair():
    fields = rng.sample(FIELDS, 1 + rng.randrange(2))
    body = ",".join('"%s":%s' % (f, condition()) for f in fields)
    if rng.random() < 0.25:
        def branch():
            return '{"%s":%s}' % (rng.choice(FIELDS), condition())
        alternatives = '"$or":[%s,%s]' % (branch(), branch())
        body = body + "," + alternatives if rng.random() < 0.5 else alternatives
    if rng.random() < 0.2:
        body = '"n":{%s}' % body
    event = ",".join('"%s":%s' % (f, value()) for f in FIELDS if rng.random() < 0.7)
    if rng.random() < 0.3:
        inner = ",".join('"%s":%s' % (f, value()) for f in FIELDS if rng.random() < 0.7)
        event = (event + "," if event else "") + '"n":{' + inner + "}"
    return "{" + body + "}", "{" + event + "}"


NESTED_VALUES = ["x", "y", 1, 2]


def nested_leaf():
    pick = rng.randrange(5)
    if pick == 0:
        return text({"exists": rng.choice([True, False])})
    if pick == 1:
        return text({"anything-but": rng.choice(NESTED_VALUES)})
    if pick == 2:
        return text({"prefix": "x"})
    return text(rng.choice(NESTED_VALUES))


def nested_pattern(depth):
    fields = rng.sample(FIELDS, 1 + rng.randrange(2))
    parts = []
    for f in fields:
        if depth == 0 or rng.random() < 0.6:
            parts.append('"%s":[%s]' % (f, ",".join(nested_leaf()
                                                     for _ in range(1 + rng.randrange(2)))))
        else:
            parts.append('"%s":%s' % (f, nested_pattern(depth - 1)))
    if depth > 0 and rng.random() < 0.6:
        parts.append('"$or":[%s,%s]' % (nested_pattern(depth - 1), nested_pattern(depth - 1)))
    return "{" + ",".join(parts) + "}"


def nested_event(depth):
    parts = []
    for f in FIELDS:
        if rng.random() >= 0.6:
            continue
        pick = rng.random()
        if depth > 0 and pick < 0.3:
            parts.append('"%s":%s' % (f, nested_event(depth - 1)))
        elif depth > 0 and pick < 0.5:
            parts.append('"%s":[%s,%s]' % (f, nested_event(depth - 1), nested_event(depth - 1)))
        else:
            parts.append('"%s":%s' % (f, text(rng.choice(NESTED_VALUES))))
    return "{" + ",".join(parts) + "}"


for _ in range(COUNT):
    pattern, event = operators_pair() if MODE == "operators" else (nested_pattern(2),
                                                                    nested_event(2))
    print(pattern + "\t" + event)
