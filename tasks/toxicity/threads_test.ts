import assert from "node:assert/strict";
import { loadRedditFolder, loadThreads, parseRedditCsv, parseThreadsJsonl } from "./threads.ts";

const HEADER = "id,parent_id,subreddit_id,link_id,text,score,ups,author,controversiality,parent_link_id,parent_text\n";

Deno.test("the reference CSV layout: positional columns, quoted commas and newlines", () => {
  const csv = HEADER +
    `a1,p1,s,l,"Well, I disagree.",12,12,bob,0,x,"Cats, not dogs?"\n` +
    `a2,p2,s,l,"Line one\nline two",-3,0,ann,1,x,plain parent\n`;
  assert.deepEqual(parseRedditCsv(csv, "pos.csv"), [
    { comment: "Well, I disagree.", score: 12, parent: "Cats, not dogs?" },
    { comment: "Line one\nline two", score: -3, parent: "plain parent" },
  ]);
});

Deno.test("malformed CSV rows are errors naming the file and row", () => {
  assert.throws(
    () => parseRedditCsv(HEADER + "a,b,c,d,text,5,5,x,0,y,parent\na,b,c,d,short\n", "neg.csv"),
    /^Error: neg\.csv row 3: expected at least 11 columns, got 5$/,
  );
  assert.throws(
    () => parseRedditCsv(HEADER + "a,b,c,d,text,many,5,x,0,y,parent\n", "neg.csv"),
    /neg\.csv row 2: score \(column 5\) must be a number, got 'many'/,
  );
  assert.throws(() => parseRedditCsv(HEADER + `a,b,c,d,"unclosed,5\n`, "bad.csv"), /^Error: bad\.csv: /);
});

Deno.test("the reference folder: positive rows first, split indices checked against the row count", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/comments_positive.csv`, HEADER + "a,b,c,d,nice,5,5,x,0,y,p1\n");
  Deno.writeTextFileSync(`${dir}/comments_negative.csv`, HEADER + "a,b,c,d,mean,-2,0,x,0,y,p2\n");
  Deno.writeTextFileSync(`${dir}/train_idxs.json`, "[1, 0]");
  Deno.writeTextFileSync(`${dir}/eval_idxs.json`, "[0]");
  Deno.writeTextFileSync(`${dir}/test_idxs.json`, "[1]");
  const set = loadRedditFolder(dir);
  assert.deepEqual(set.threads.map((t) => t.comment), ["nice", "mean"]);
  assert.deepEqual(set.splits, { train: [1, 0], eval: [0], test: [1] });
  assert.equal(loadThreads(dir).threads.length, 2);
  Deno.writeTextFileSync(`${dir}/test_idxs.json`, "[0, 2]");
  assert.throws(() => loadRedditFolder(dir), /test_idxs\.json: entry 1 \(2\) is not a row index in \[0, 2\)/);
  Deno.writeTextFileSync(`${dir}/test_idxs.json`, "{}");
  assert.throws(() => loadRedditFolder(dir), /test_idxs\.json: expected a JSON list of row indices/);
  Deno.removeSync(`${dir}/eval_idxs.json`);
  assert.throws(() => loadRedditFolder(dir), /eval_idxs\.json: cannot read the file/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("JSON Lines threads: default 80/10/10 splits, header splits, errors naming the line", () => {
  const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ parent: `p${i}`, comment: `c${i}`, score: i }));
  const plain = parseThreadsJsonl(lines.join("\n"), "t.jsonl");
  assert.deepEqual(plain.splits, { train: [0, 1, 2, 3, 4, 5, 6, 7], eval: [8], test: [9] });
  const withHeader = parseThreadsJsonl(
    [JSON.stringify({ header: { splits: { train: [0], eval: [1], test: [2, 3] } } }), ...lines].join("\n"),
    "t.jsonl",
  );
  assert.deepEqual(withHeader.splits.test, [2, 3]);
  assert.throws(
    () =>
      parseThreadsJsonl(
        [JSON.stringify({ header: { splits: { train: [0], eval: [1], test: [10] } } }), ...lines].join("\n"),
        "t.jsonl",
      ),
    /t\.jsonl line 1 splits\.test: entry 0 \(10\) is not a row index/,
  );
  assert.throws(
    () => parseThreadsJsonl(`${lines[0]}\n{"parent": "x", "comment": 3, "score": 1}`, "t.jsonl"),
    /t\.jsonl line 2: 'comment' must be a string/,
  );
  assert.throws(() => parseThreadsJsonl(`${lines[0]}\n{oops`, "t.jsonl"), /t\.jsonl line 2: not valid JSON/);
  assert.throws(() => loadThreads("/nonexistent/threads.jsonl"), /no such file or folder/);
});
