"""Random JSONata expressions for the differential test against the reference implementation.

``generate(count, seed)`` gives ``count`` cases ``{"expr", "input"?, "bindings"?}`` over a few
fixed documents: paths, predicates and indexes, arithmetic, comparisons, string concatenation,
conditionals, array and object constructors, group-by, order-by, common functions with random
arguments, lambdas under $map/$filter/$reduce/$sort, blocks with ``:=``, ``~>`` chains and
transforms. Expressions are built by the type they should produce, so most evaluate; about one in
seven is made ill-typed on purpose (a string where a number is wanted, a number given to a
string function, a truncated expression) so that error codes are compared too. The same seed
always gives the same cases. Nothing nondeterministic ($now, $random, ...) and no division by zero
is generated.

    python3 tests/e2e/jsonata_generator.py --count 20 --seed 1    # print cases as JSON lines
"""

from __future__ import annotations

import argparse
import json
import random

PERSON = {
    "FirstName": "Fred", "Surname": "Smith", "Age": 28, "Height": 1.83, "Member": True,
    "Address": {"Street": "Hursley Park", "City": "Winchester", "Postcode": "SO21 2JN"},
    "Phone": [{"type": "home", "number": "0203 544 1234", "ext": 12},
              {"type": "office", "number": "01962 001234", "ext": 7},
              {"type": "office", "number": "01962 001235", "ext": 31},
              {"type": "mobile", "number": "077 7700 1234", "ext": 0}],
    "Scores": [12, 7.5, 30, 7.5, -2],
    "Tags": ["alpha", "beta", "gamma", "beta"],
    "Misc": None,
}

ORDERS = {"Account": {"Name": "Firefly", "Order": [
    {"OrderID": "order103", "Product": [
        {"Name": "Bowler Hat", "SKU": "0406654608", "Colour": "Purple", "Price": 34.45, "Quantity": 2},
        {"Name": "Trilby hat", "SKU": "0406634348", "Colour": "Orange", "Price": 21.67, "Quantity": 1}]},
    {"OrderID": "order104", "Product": [
        {"Name": "Bowler Hat", "SKU": "040657863", "Colour": "Purple", "Price": 34.45, "Quantity": 4},
        {"Name": "Cloak", "SKU": "0406654603", "Colour": "Black", "Price": 107.99, "Quantity": 1}]}]}}

STATES = {"states": {"input": {
    "JobName": "xgb-churn-2024-01-15", "Status": "Completed", "Epochs": 40, "Rate": 0.05,
    "Metrics": [{"MetricName": "train_rmse", "Value": 0.31}, {"MetricName": "val_rmse", "Value": 0.42},
                {"MetricName": "val_auc", "Value": 0.87}],
    "Items": [{"id": 1, "size": 10, "label": "a"}, {"id": 2, "size": 25, "label": "b"},
              {"id": 3, "size": 7, "label": "a"}, {"id": 4, "size": 25, "label": "c"}],
    "Counts": [3, 1, 4, 1, 5], "Names": ["x", "y", "z"], "Done": False}}}

# For each document: paths by the type they give, arrays of objects with their fields by type,
# and plain objects. `states` paths read the binding, as Step Functions expressions do.
DOCS = [
    {"input": PERSON, "bindings": None,
     "num": ["Age", "Height", "Phone[0].ext", "Phone[-1].ext", "Scores[1]", "$count(Phone)"],
     "str": ["FirstName", "Surname", "Address.City", "Address.Postcode", "Phone[1].number", "Tags[0]"],
     "bool": ["Member", "Age > 18"],
     "arr_num": ["Scores", "Phone.ext"], "arr_str": ["Tags", "Phone.type", "Phone.number"],
     "objarr": [("Phone", {"num": ["ext"], "str": ["type", "number"]})],
     "obj": ["Address", "$"], "missing": ["Nope", "Address.Zip", "Phone.fax"]},
    {"input": ORDERS, "bindings": None,
     "num": ["Account.Order[0].Product[0].Price", "Account.Order[1].Product[0].Quantity",
             "$count(Account.Order)"],
     "str": ["Account.Name", "Account.Order[0].OrderID", "Account.Order[1].Product[1].Name"],
     "bool": ["Account.Order[0].Product[0].Quantity > 1"],
     "arr_num": ["Account.Order.Product.Price", "Account.Order.Product.Quantity"],
     "arr_str": ["Account.Order.Product.Name", "Account.Order.OrderID", "Account.Order.Product.Colour"],
     "objarr": [("Account.Order.Product", {"num": ["Price", "Quantity"], "str": ["Name", "SKU", "Colour"]}),
                ("Account.Order", {"num": [], "str": ["OrderID"]})],
     "obj": ["Account", "Account.Order[0].Product[0]"], "missing": ["Account.Nope", "Account.Order.Missing"]},
    {"input": None, "bindings": STATES,
     "num": ["$states.input.Epochs", "$states.input.Rate", "$states.input.Metrics[1].Value",
             "$states.input.Items[0].size", "$states.input.Counts[2]"],
     "str": ["$states.input.JobName", "$states.input.Status", "$states.input.Metrics[0].MetricName",
             "$states.input.Names[1]"],
     "bool": ["$states.input.Done", "$states.input.Status = 'Completed'"],
     "arr_num": ["$states.input.Counts", "$states.input.Items.size", "$states.input.Metrics.Value"],
     "arr_str": ["$states.input.Names", "$states.input.Metrics.MetricName", "$states.input.Items.label"],
     "objarr": [("$states.input.Metrics", {"num": ["Value"], "str": ["MetricName"]}),
                ("$states.input.Items", {"num": ["id", "size"], "str": ["label"]})],
     "obj": ["$states.input", "$states.input.Items[0]"], "missing": ["$states.input.Nope", "$states.nothing"]},
]

WORDS = ["a", "b", "abc", "Hello", "x-y", "", " pad ", "日本", "Fred", "office", "val_rmse", "1,2,3"]


class Generator:
    def __init__(self, rng: random.Random, doc: dict):
        self.r = rng
        self.doc = doc
        self.vars: list[tuple[str, str]] = []  # ($name, type) in scope
        self.counter = 0

    def pick(self, seq):
        return self.r.choice(seq)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def fresh(self) -> str:
        self.counter += 1
        return f"$v{self.counter}"

    def var_of(self, kind: str):
        names = [n for n, t in self.vars if t == kind]
        return self.pick(names) if names else None

    # -- literals ----------------------------------------------------------------------------

    def num_literal(self) -> str:
        k = self.r.random()
        if k < 0.5:
            return str(self.r.randint(0, 20))
        if k < 0.75:
            return str(round(self.r.uniform(-50, 50), self.r.randint(1, 3)))
        if k < 0.9:
            return str(self.r.randint(-5, 5))
        return self.pick(["0.1", "0.2", "1e3", "2.5", "1000000", "0.001"])

    def str_literal(self) -> str:
        w = self.pick(WORDS)
        return "'" + w + "'" if self.chance(0.7) else '"' + w + '"'

    # -- by type -----------------------------------------------------------------------------

    def num(self, d: int) -> str:
        v = self.var_of("num")
        options = ["lit", "path", "lit"]
        if v:
            options += ["var", "var"]
        if d > 0:
            options += ["arith", "arith", "arith", "func", "func", "agg", "cond", "block", "neg", "lenstr"]
        o = self.pick(options)
        if o == "lit":
            return self.num_literal()
        if o == "path":
            return self.pick(self.doc["num"])
        if o == "var":
            return v
        if o == "arith":
            op = self.pick(["+", "-", "*", "/", "%"])
            right = self.num(d - 1) if op in "+-*" else self.pick(["2", "3", "4", "7", "0.5", "10"])
            return f"({self.num(d - 1)} {op} {right})"
        if o == "func":
            f = self.pick(["$abs", "$floor", "$ceil", "$round", "$sqrt", "$power", "$round2", "$number"])
            if f == "$round2":
                return f"$round({self.num(d - 1)}, {self.r.randint(-1, 3)})"
            if f == "$power":
                return f"$power({self.num(d - 1)}, {self.r.randint(0, 3)})"
            if f == "$sqrt":
                return f"$sqrt($abs({self.num(d - 1)}))"
            if f == "$number":
                return f"$number({self.pick([self.num(d - 1), repr(str(self.r.randint(0, 99))), 'true'])})"
            return f"{f}({self.num(d - 1)})"
        if o == "agg":
            f = self.pick(["$sum", "$max", "$min", "$average", "$count"])
            return f"{f}({self.arr_num(d - 1)})"
        if o == "cond":
            return f"({self.bool(d - 1)} ? {self.num(d - 1)} : {self.num(d - 1)})"
        if o == "block":
            return self.block(d, "num")
        if o == "neg":
            return f"-{self.num(d - 1)}"
        return f"$length({self.str(d - 1)})"

    def str(self, d: int) -> str:
        v = self.var_of("str")
        options = ["lit", "path", "path"]
        if v:
            options += ["var", "var"]
        if d > 0:
            options += ["concat", "concat", "concat", "func", "func", "func", "cond", "string", "join", "block"]
        o = self.pick(options)
        if o == "lit":
            return self.str_literal()
        if o == "path":
            return self.pick(self.doc["str"])
        if o == "var":
            return v
        if o == "concat":
            other = self.pick([self.str(d - 1), self.num(d - 1), f"({self.bool(d - 1)})"])
            return f"({self.str(d - 1)} & {other})"
        if o == "func":
            f = self.pick(["$uppercase", "$lowercase", "$trim", "$substring", "$substringBefore",
                           "$substringAfter", "$pad", "$replace", "$formatBase", "$base64encode",
                           "$encodeUrlComponent"])
            s = self.str(d - 1)
            if f == "$substring":
                return (f"$substring({s}, {self.r.randint(-4, 4)})" if self.chance(0.5)
                        else f"$substring({s}, {self.r.randint(-3, 3)}, {self.r.randint(0, 5)})")
            if f in ("$substringBefore", "$substringAfter"):
                return f"{f}({s}, {self.pick(['-', 'a', ' ', 'o', '1'])!r})"
            if f == "$pad":
                return f"$pad({s}, {self.r.randint(-8, 8)}{', ' + repr(self.pick(['#', '-*'])) if self.chance(0.5) else ''})"
            if f == "$replace":
                return f"$replace({s}, {self.pick(['a', 'o', '-', ' '])!r}, {self.pick(['_', '', 'XY'])!r})"
            if f == "$formatBase":
                return f"$formatBase($floor({self.num(d - 1)}), {self.r.randint(2, 36)})"
            return f"{f}({s})"
        if o == "cond":
            return f"({self.bool(d - 1)} ? {self.str(d - 1)} : {self.str(d - 1)})"
        if o == "string":
            return f"$string({self.pick([self.num(d - 1), self.bool(d - 1), self.arr_num(d - 1), self.obj(d - 1)])})"
        if o == "join":
            return f"$join({self.arr_str(d - 1)}, {self.pick([repr(','), repr(' | '), repr('')])})"
        return self.block(d, "str")

    def bool(self, d: int) -> str:
        options = ["cmpnum", "cmpstr", "path"]
        if d > 0:
            options += ["cmpnum", "andor", "andor", "not", "exists", "contains", "in", "eq", "boolean"]
        o = self.pick(options)
        if o == "cmpnum":
            return f"{self.num(max(d - 1, 0))} {self.pick(['<', '<=', '>', '>=', '=', '!='])} {self.num(max(d - 1, 0))}"
        if o == "cmpstr":
            return f"{self.str(max(d - 1, 0))} {self.pick(['=', '!=', '<', '>'])} {self.str(max(d - 1, 0))}"
        if o == "path":
            return self.pick(self.doc["bool"])
        if o == "andor":
            return f"({self.bool(d - 1)} {self.pick(['and', 'or'])} {self.bool(d - 1)})"
        if o == "not":
            return f"$not({self.bool(d - 1)})"
        if o == "exists":
            return f"$exists({self.pick(self.doc['missing'] + self.doc['str'] + self.doc['num'])})"
        if o == "contains":
            return f"$contains({self.str(d - 1)}, {self.pick(['a', 'o', '1', 'e'])!r})"
        if o == "in":
            return f"{self.str(d - 1)} in {self.arr_str(d - 1)}"
        if o == "eq":
            return f"{self.arr_num(d - 1)} = {self.arr_num(d - 1)}"
        return f"$boolean({self.pick([self.num(d - 1), self.str(d - 1), self.arr_num(d - 1)])})"

    def arr_num(self, d: int) -> str:
        options = ["path", "path", "ctor"]
        if d > 0:
            options += ["map", "filter", "sort", "orderby", "pred", "range", "append", "reverse",
                        "distinct", "mapstep"]
        o = self.pick(options)
        if o == "path":
            return self.pick(self.doc["arr_num"])
        if o == "ctor":
            return "[" + ", ".join(self.num(max(d - 1, 0)) for _ in range(self.r.randint(0, 4))) + "]"
        if o == "map":
            v = self.fresh()
            body = self.with_var(v, "num", lambda: self.num(d - 1))
            return f"$map({self.arr_num(d - 1)}, function({v}){{{body}}})"
        if o == "filter":
            v = self.fresh()
            body = self.with_var(v, "num", lambda: self.bool(d - 1))
            return f"$filter({self.arr_num(d - 1)}, function({v}){{{body}}})"
        if o == "sort":
            if self.chance(0.5):
                return f"$sort({self.arr_num(d - 1)})"
            return f"$sort({self.arr_num(d - 1)}, function($l, $r){{$l {self.pick(['<', '>'])} $r}})"
        if o == "orderby":
            path, fields = self.pick(self.doc["objarr"])
            if not fields["num"]:
                return self.pick(self.doc["arr_num"])
            f = self.pick(fields["num"])
            return f"{path}^({self.pick(['', '>', '<'])}{f}).{self.pick(fields['num'])}"
        if o == "pred":
            path, fields = self.pick(self.doc["objarr"])
            if not fields["num"]:
                return self.pick(self.doc["arr_num"])
            return f"{path}[{self.predicate(fields, d - 1)}].{self.pick(fields['num'])}"
        if o == "range":
            a = self.r.randint(-3, 5)
            return f"[{a}..{a + self.r.randint(-1, 6)}]"
        if o == "append":
            return f"$append({self.arr_num(d - 1)}, {self.pick([self.arr_num(d - 1), self.num(d - 1)])})"
        if o == "reverse":
            return f"$reverse({self.arr_num(d - 1)})"
        if o == "distinct":
            return f"$distinct({self.arr_num(d - 1)})"
        return f"{self.arr_num(d - 1)}.($ {self.pick(['+', '*', '-'])} {self.num_literal()})"

    def arr_str(self, d: int) -> str:
        options = ["path", "path", "ctor"]
        if d > 0:
            options += ["map", "split", "pred", "sort", "distinct", "mapstep", "keys"]
        o = self.pick(options)
        if o == "path":
            return self.pick(self.doc["arr_str"])
        if o == "ctor":
            return "[" + ", ".join(self.str(max(d - 1, 0)) for _ in range(self.r.randint(0, 3))) + "]"
        if o == "map":
            v = self.fresh()
            body = self.with_var(v, "str", lambda: self.str(d - 1))
            return f"$map({self.arr_str(d - 1)}, function({v}){{{body}}})"
        if o == "split":
            return f"$split({self.str(d - 1)}, {self.pick(['-', ',', ' ', ''])!r})"
        if o == "pred":
            path, fields = self.pick(self.doc["objarr"])
            return f"{path}[{self.predicate(fields, d - 1)}].{self.pick(fields['str'])}"
        if o == "sort":
            return f"$sort({self.arr_str(d - 1)})"
        if o == "distinct":
            return f"$distinct({self.arr_str(d - 1)})"
        if o == "mapstep":
            return f"{self.arr_str(d - 1)}.$uppercase($)"
        return f"$keys({self.pick(self.doc['obj'])})"

    def predicate(self, fields: dict, d: int) -> str:
        k = self.r.random()
        if k < 0.4 and fields["num"]:
            return f"{self.pick(fields['num'])} {self.pick(['>', '<', '>=', '=', '!='])} {self.num(max(d - 1, 0))}"
        if k < 0.7:
            return f"{self.pick(fields['str'])} {self.pick(['=', '!='])} {self.str(max(d - 1, 0))}"
        if k < 0.85:
            return str(self.r.randint(-3, 3))
        return f"$contains({self.pick(fields['str'])}, {self.pick(['a', 'o', '1'])!r})"

    def obj(self, d: int) -> str:
        options = ["path", "ctor"]
        if d > 0:
            options += ["ctor", "group", "merge", "transform", "sift"]
        o = self.pick(options)
        if o == "path":
            return self.pick(self.doc["obj"])
        if o == "ctor":
            keys = self.r.sample(["a", "b", "name", "total", "flag", "list"], self.r.randint(0, 3))
            parts = []
            for k in keys:
                parts.append(f"'{k}': {self.any(max(d - 1, 0))}")
            return "{" + ", ".join(parts) + "}"
        if o == "group":
            path, fields = self.pick(self.doc["objarr"])
            key = self.pick(fields["str"])
            value = (f"$sum({self.pick(fields['num'])})" if fields["num"] and self.chance(0.5)
                     else self.pick(fields["str"] + fields["num"]))
            return f"{path}{{{key}: {value}}}"
        if o == "merge":
            return f"$merge([{self.obj(d - 1)}, {self.obj(d - 1)}])"
        if o == "transform":
            return f"({self.pick(self.doc['obj'])} ~> |$|{{'added': {self.num(d - 1)}}}|)"
        v, k = self.fresh(), self.fresh()
        body = self.with_var(v, "any", lambda: self.pick(["$type(" + v + ") = 'string'", "$exists(" + v + ")",
                                                          "$length(" + k + ") > 3"]))
        return f"$sift({self.pick(self.doc['obj'])}, function({v}, {k}){{{body}}})"

    def any(self, d: int) -> str:
        return self.pick([self.num, self.str, self.bool, self.arr_num, self.arr_str, self.obj])(d)

    def block(self, d: int, kind: str) -> str:
        v = self.fresh()
        bound_kind = self.pick(["num", "str"])
        value = self.num(d - 1) if bound_kind == "num" else self.str(d - 1)
        body = self.with_var(v, bound_kind, lambda: getattr(self, kind)(d - 1))
        return f"({v} := {value}; {body})"

    def with_var(self, name: str, kind: str, make):
        self.vars.append((name, kind))
        try:
            return make()
        finally:
            self.vars.pop()

    # -- a whole expression ------------------------------------------------------------------

    def well_typed(self) -> str:
        d = self.r.randint(1, 3)
        kind = self.pick(["num", "num", "str", "str", "bool", "bool", "arr_num", "arr_str", "obj", "chain"])
        if kind == "chain":
            return f"{self.arr_num(d)} ~> {self.pick(['$sum()', '$count()', '$sort()', '$reverse()', '$max()'])}"
        return getattr(self, kind)(d)

    def ill_typed(self) -> str:
        d = self.r.randint(0, 2)
        o = self.pick(["strarith", "strarith", "numfunc", "aggstr", "cmpmixed", "range", "join",
                       "truncate", "truncate", "boolarith", "unknownfn", "dynamic"])
        if o == "strarith":
            return f"{self.str(d)} {self.pick(['+', '-', '*'])} {self.num(d)}"
        if o == "numfunc":
            return f"{self.pick(['$uppercase', '$length', '$trim', '$split'])}({self.num(d)}{', ' + repr(',') if self.chance(0.3) else ''})"
        if o == "aggstr":
            return f"{self.pick(['$sum', '$max', '$average'])}({self.arr_str(d)})"
        if o == "cmpmixed":
            return f"{self.num(d)} {self.pick(['<', '>='])} {self.str(d)}"
        if o == "range":
            return f"[{self.str(d)}..{self.num(d)}]"
        if o == "join":
            return f"$join({self.arr_num(d)}, ',')"
        if o == "boolarith":
            return f"{self.bool(d)} + {self.num(d)}"
        if o == "unknownfn":
            return f"${self.pick(['frobnicate', 'values', 'sumOf'])}({self.num(d)})"
        if o == "dynamic":
            return self.pick([f"$number({self.str(d)})", f"$sqrt(-1 - $abs({self.num(d)}))",
                              f"$single({self.arr_num(d)})", f"$formatBase({self.r.randint(0, 99)}, {self.pick([1, 37, 40])})",
                              f"$error({self.str(d)})", f"{self.pick(self.doc['objarr'])[0]}^({self.pick(['$', '$string($)', '[1]'])})"])
        text = self.well_typed()
        cut = self.r.randint(1, max(1, len(text) - 1))
        return text[:cut]


def generate(count: int = 3000, seed: int = 20240115, ill_typed_share: float = 0.15) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    seen = set()
    while len(cases) < count:
        doc_index = rng.randrange(len(DOCS))
        doc = DOCS[doc_index]
        g = Generator(rng, doc)
        expr = g.ill_typed() if rng.random() < ill_typed_share else g.well_typed()
        if (doc_index, expr) in seen:
            continue
        seen.add((doc_index, expr))
        case = {"expr": expr}
        if doc["input"] is not None:
            case["input"] = doc["input"]
        if doc["bindings"] is not None:
            case["bindings"] = doc["bindings"]
        cases.append(case)
    return cases


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20240115)
    args = parser.parse_args()
    for case in generate(args.count, args.seed):
        print(json.dumps(case, ensure_ascii=False))
