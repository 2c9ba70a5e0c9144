"""Runs a GitHub Actions job locally the way the runner does, as far as rules/ci/github/action.yml needs it.

    python github_job.py JOB.json

JOB.json: {"env": {...}, "steps": [{"uses": "path/to/action.yml", "with": {...}} | {"run": "shell"}]}.
Steps run in order with `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`); what a step appends to
$GITHUB_ENV is read after it (NAME=value and NAME<<DELIMITER forms) and given to the steps after it; a composite
action's steps get their `env:` with `${{ inputs.x || env.Y }}` expressions evaluated and GITHUB_ACTION_PATH set,
and run only when their `if:` holds. The first failing step fails the job (exit 1).
"""

import json
import os
import re
import subprocess
import sys

import yaml


def read_env_file(path, env, consume=True):
    """Applies a GITHUB_ENV file to env and empties it, as the runner does after each step."""
    if not os.path.exists(path):
        return
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        heredoc = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)<<(.+)$", lines[i])
        if heredoc:
            name, delimiter = heredoc.groups()
            end = lines.index(delimiter, i + 1)
            env[name] = "\n".join(lines[i + 1 : end])
            i = end
        elif "=" in lines[i]:
            name, value = lines[i].split("=", 1)
            env[name] = value
        i += 1
    if consume:
        open(path, "w").close()


def evaluate(expression, inputs, env):
    """The few expression forms the action uses: a || b, a && b, a == 'x', a != '', inputs.x, env.X, 'literal'."""
    e = expression.strip()
    if "&&" in e:
        return all(evaluate(part, inputs, env) for part in e.split("&&"))
    if "||" in e:
        value = ""
        for part in e.split("||"):
            value = evaluate(part, inputs, env)
            if value:
                return value
        return value
    for operator in ("==", "!="):
        if operator in e:
            left, right = (evaluate(part, inputs, env) for part in e.split(operator, 1))
            return (left == right) == (operator == "==")
    if e.startswith("inputs."):
        return inputs[e[len("inputs.") :]]
    if e.startswith("env."):
        return env.get(e[len("env.") :], "")
    if e.startswith("'") and e.endswith("'"):
        return e[1:-1]
    raise SystemExit(f"github_job.py: cannot evaluate '{expression}'")


def substitute(text, inputs, env):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1), inputs, env)), str(text))


def run_shell(script, env, name):
    print(f"::group::{name}", flush=True)
    status = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env).returncode
    print("::endgroup::", flush=True)
    if status != 0:
        sys.exit(f"github_job.py: step '{name}' failed with status {status}")


def main():
    job = json.load(open(sys.argv[1]))
    env = dict(job["env"])
    for number, step in enumerate(job["steps"], 1):
        if "run" in step:
            run_shell(step["run"], env, step.get("name", f"step {number}"))
            read_env_file(env["GITHUB_ENV"], env)
            continue
        action_path = step["uses"]
        action = yaml.safe_load(open(action_path))
        given = step.get("with", {})
        unknown = set(given) - set(action["inputs"])
        if unknown:
            sys.exit(f"github_job.py: {action_path} has no inputs {sorted(unknown)}")
        inputs = {name: str(given.get(name, spec.get("default", ""))) for name, spec in action["inputs"].items()}
        for inner in action["runs"]["steps"]:
            if "if" in inner and not evaluate(inner["if"], inputs, env):
                continue
            step_env = dict(env, GITHUB_ACTION_PATH=os.path.dirname(os.path.abspath(action_path)))
            for key, value in inner.get("env", {}).items():
                step_env[key] = substitute(value, inputs, env)
            run_shell(inner["run"], step_env, inner["name"])
            read_env_file(env["GITHUB_ENV"], env)


if __name__ == "__main__":
    main()
