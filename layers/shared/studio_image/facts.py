"""What the image implies, read from its inventory: the user it runs as, its kernels, the programs on
its PATH and the packages it carries. Rules, the report and registration all read these."""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel

from .inventory import Inventory
from .scan.models import DIR, FILE, HARDLINK, SYMLINK
from .scan.paths import is_within, parent

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # Docker's, when Env has none
STUDIO_HOME = "/home/sagemaker-user"
SYSTEM_JUPYTER_PATH = ["/usr/local/share/jupyter", "/usr/share/jupyter"]  # jupyter_core.paths, on Linux
RSTUDIO_VERSION_FILE = "/usr/lib/rstudio-server/VERSION"

CONDA_IPYKERNEL = re.compile(
    r"(?P<prefix>.+/envs/(?P<env>[^/]+))/(conda-meta/ipykernel-[^/]+\.json"
    r"|lib/python[^/]+/site-packages/ipykernel/__init__\.py)"
)
KERNEL_JSON = re.compile(r"(?P<dir>.+/kernels)/[^/]+/kernel\.json")
PYTHON_VERSION = re.compile(r"python(\d+\.\d+)")
DIST_INFO = re.compile(r"(?P<name>.+?)-[^-]+\.(?:dist|egg)-info")
SHARED_OBJECT = re.compile(r"(.+?)\.so(?:\.[0-9.]+)?")
R_PACKAGE = re.compile(r".+/(?:library|site-library)/(?P<name>[^/]+)/DESCRIPTION")
RSTUDIO_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)[-+](\d+)")  # 2022.02.2-485.pro2 or 2023.03.0+386.pro1
JAVA_RELEASE_VERSION = re.compile(r'^JAVA_VERSION="(?:1\.)?(\d+)', re.MULTILINE)
JAVA_HOME_VERSION = re.compile(
    r"/(?:java|jdk|jre|openjdk|temurin)-?(?:1\.)?(\d+)"
)  # /usr/lib/jvm/java-11-openjdk


class UserInfo(BaseModel):
    name: str | None  # None where the config names a number that /etc/passwd does not know
    uid: int | None  # None where the config names a user /etc/passwd does not know
    gid: int | None
    group: str | None = None
    spec: str = ""  # the config's User as written ("" runs as root)


class KernelSpec(BaseModel):
    name: str  # what SageMaker looks the kernel up by: the kernelspec directory, or conda-env-<env>-py
    display_name: str
    language: str
    argv: list[str]
    path: str  # its kernel.json, or the conda environment's prefix
    source: Literal["kernel.json", "conda-env"] = "kernel.json"


class KernelSpecError(BaseModel):
    path: str
    problem: str


def _table(text: str | None, min_fields: int) -> list[list[str]]:
    rows = [line.split(":") for line in (text or "").splitlines() if line and line[0] != "#"]
    return [row for row in rows if len(row) >= min_fields]


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def passwd_entries(inventory: Inventory) -> list[list[str]]:
    return _table(inventory.text("/etc/passwd"), 4)


def group_entries(inventory: Inventory) -> list[list[str]]:
    return _table(inventory.text("/etc/group"), 3)


def resolve_user(inventory: Inventory) -> UserInfo:
    """Resolve the config's `User` ("name", "uid", "name:group", "uid:gid") as a runtime would."""
    spec = (inventory.config.config.user or "").strip()
    passwd = passwd_entries(inventory)
    groups = group_entries(inventory)
    user_part, _, group_part = spec.partition(":")
    user_part = user_part or "root"

    by_name = {row[0]: row for row in passwd}
    by_uid = {_int(row[2]): row for row in passwd}
    row = by_uid.get(_int(user_part)) if user_part.isdigit() else by_name.get(user_part)
    if user_part.isdigit():
        uid: int | None = int(user_part)
        name = row[0] if row else None
    else:
        uid = _int(row[2]) if row else (0 if user_part == "root" else None)
        name = user_part
    gid = _int(row[3]) if row else (0 if uid == 0 else None)
    if user_part.isdigit() and row is None:
        gid = 0  # a numeric user with no passwd entry runs with group 0, as Docker does

    group_name = None
    if group_part:
        group_row = next(
            (g for g in groups if (g[2] == group_part if group_part.isdigit() else g[0] == group_part)),
            None,
        )
        gid = int(group_part) if group_part.isdigit() else (_int(group_row[2]) if group_row else None)
        group_name = group_row[0] if group_row else (None if group_part.isdigit() else group_part)
    elif gid is not None:
        group_name = next((g[0] for g in groups if _int(g[2]) == gid), None)
    return UserInfo(name=name, uid=uid, gid=gid, group=group_name, spec=spec)


def parse_kernel_json(path: str, text: str) -> KernelSpec | KernelSpecError:
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except ValueError as err:
        return KernelSpecError(path=path, problem=f"not valid JSON: {err}")
    argv = doc.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv):
        return KernelSpecError(path=path, problem="argv is missing, empty or not a list of strings")
    name = path.rsplit("/", 2)[-2].lower()
    return KernelSpec(
        name=name,
        display_name=str(doc.get("display_name") or name),
        language=str(doc.get("language") or ""),
        argv=argv,
        path=path,
    )


def rstudio_version(text: str) -> tuple[int, int, int, int] | None:
    """A comparable key for an RStudio version; the build suffix (".pro2") does not order releases."""
    match = RSTUDIO_VERSION.search(text)
    if match is None:
        return None
    year, month, patch, build = (int(g) for g in match.groups())
    return year, month, patch, build


class Facts:
    """Derived once per image, on first use, and shared by every rule and the report."""

    def __init__(self, inventory: Inventory, mount_path: str = STUDIO_HOME) -> None:
        self.inventory = inventory
        self.files = inventory.files
        self.mount_path = mount_path  # hidden at runtime by the user's home volume

    @cached_property
    def user(self) -> UserInfo:
        return resolve_user(self.inventory)

    @cached_property
    def search_path(self) -> list[str]:
        value = self.inventory.config.config.env_map().get("PATH", DEFAULT_PATH)
        return [d for d in value.split(":") if d.startswith("/")]

    def at_start(self, path: str) -> bool:
        """Whether `path` exists when the app starts: the home volume mounted over `mount_path` hides
        whatever the image put there, and whatever a symlink leads to there."""
        resolved = self.files.resolve(path)
        return resolved is not None and not self.hidden_by_mount(path) and not self.hidden_by_mount(resolved)

    def executable(self, path: str, *, through_mount: bool = False) -> bool:
        """A regular file (through symlinks and hardlinks) with an execute bit, there at start unless
        `through_mount` (as if the home volume did not hide anything)."""
        node = self.files.lookup(path)
        return (
            node is not None
            and node.entry.kind in (FILE, HARDLINK)
            and bool(node.entry.mode & 0o111)
            and (through_mount or self.at_start(path))
        )

    def exists(self, path: str) -> bool:
        return self.files.resolve(path) is not None

    def which(self, program: str, *, through_mount: bool = False) -> str | None:
        """Where the shell would find `program` at start: as given if it has a slash, else on the
        config's PATH. With `through_mount`, where it would if the home volume hid nothing."""
        if "/" in program:
            return (
                program
                if program.startswith("/") and self.executable(program, through_mount=through_mount)
                else None
            )
        for directory in self.search_path:
            candidate = f"{directory.rstrip('/')}/{program}"
            if self.executable(candidate, through_mount=through_mount):
                return candidate
        return None

    def hidden_program(self, program: str) -> str | None:
        """Where `program` is in the image when only the home volume keeps it from being found."""
        return None if self.which(program) else self.which(program, through_mount=True)

    def hidden_by_mount(self, path: str) -> bool:
        return is_within(path, self.mount_path)

    @cached_property
    def python_prefix(self) -> str | None:
        """`sys.prefix` of the Python on the image's PATH, derived as CPython's Modules/getpath.py
        does: the directory holding a pyvenv.cfg beside the executable or one level up (a venv), else
        the nearest ancestor of the executable's real path with the stdlib landmark
        lib/python3.X/os.py."""
        executable = self.which("python3") or self.which("python")
        if executable is None:
            return None
        bin_dir = parent(executable)
        for candidate in (bin_dir, parent(bin_dir)):
            if self.files.lookup(f"{candidate.rstrip('/')}/pyvenv.cfg") is not None:
                return candidate
        real = self.files.resolve(executable) or executable
        version = PYTHON_VERSION.fullmatch(real.rpartition("/")[2])
        directory = parent(real)
        while version and directory != "/":
            directory = parent(directory)
            if self.files.lookup(f"{directory.rstrip('/')}/lib/python{version[1]}/os.py") is not None:
                return directory
        return parent(parent(real))  # no landmark found: the installation the bin directory is in

    @cached_property
    def home(self) -> str:
        """$HOME in the app: the image's Env, else the user's /etc/passwd entry, else "/" (as Docker
        sets it), through symlinks as jupyter_core.paths.get_home_dir resolves it."""
        home = self.inventory.config.config.env_map().get("HOME")
        if not home:
            entry = next((row for row in passwd_entries(self.inventory) if row[0] == self.user.name), None)
            home = entry[5] if entry and len(entry) > 5 and entry[5].startswith("/") else "/"
        return self.files.resolve(home) or home

    @cached_property
    def jupyter_user_data_dir(self) -> str:
        """jupyter_core.paths.jupyter_data_dir on Linux: JUPYTER_DATA_DIR, else XDG_DATA_HOME/jupyter,
        else ~/.local/share/jupyter (also site's user base, which jupyter_path adds, unless
        PYTHONUSERBASE moves it)."""
        env = self.inventory.config.config.env_map()
        xdg = env.get("XDG_DATA_HOME") or f"{self.home.rstrip('/')}/.local/share"
        return env.get("JUPYTER_DATA_DIR") or f"{xdg}/jupyter"

    @cached_property
    def prefer_environment_over_user(self) -> bool:
        """jupyter_core.paths.prefer_environment_over_user: JUPYTER_PREFER_ENV_PATH if set, else
        whether the Python is a venv (or a conda environment other than base) its user owns."""
        env = self.inventory.config.config.env_map()
        if "JUPYTER_PREFER_ENV_PATH" in env:
            return env["JUPYTER_PREFER_ENV_PATH"].lower() not in ("no", "n", "false", "off", "0", "0.0")
        prefix = self.python_prefix
        if prefix is None:
            return False
        node = self.files.lookup(prefix)
        owned = (node.entry.uid if node else 0) == self.user.uid  # a parent no entry made is root's
        venv = self.files.lookup(f"{prefix.rstrip('/')}/pyvenv.cfg") is not None
        conda_prefix = env.get("CONDA_PREFIX")
        conda_env = bool(conda_prefix) and prefix.startswith(conda_prefix or "/")
        conda_env = conda_env and env.get("CONDA_DEFAULT_ENV", "base") != "base"
        return owned and (venv or conda_env)

    @cached_property
    def jupyter_data_dirs(self) -> list[str]:
        """Where Jupyter looks for data, in jupyter_core.paths.jupyter_path order (jupyter_core 5.x):
        JUPYTER_PATH, the user's data directory and `{sys.prefix}/share/jupyter` (the environment's
        first where Jupyter prefers it), then SYSTEM_JUPYTER_PATH (/usr/local/share/jupyter,
        /usr/share/jupyter). Anything under the mount (Studio's ~/.local/share/jupyter) is left out:
        the home volume hides it."""
        env = self.inventory.config.config.env_map()
        dirs = [d.rstrip("/") or "/" for d in env.get("JUPYTER_PATH", "").split(":") if d.startswith("/")]
        user = [self.jupyter_user_data_dir]
        environment = [f"{self.python_prefix.rstrip('/')}/share/jupyter"] if self.python_prefix else []
        environment = [d for d in environment if d not in SYSTEM_JUPYTER_PATH]  # /usr's stays in system order
        dirs += environment + user if self.prefer_environment_over_user else user + environment
        dirs += SYSTEM_JUPYTER_PATH
        unique = list(dict.fromkeys(dirs))
        return [d for d in unique if not self.hidden_by_mount(d)]

    @cached_property
    def kernel_dirs(self) -> list[str]:
        """jupyter_client's KernelSpecManager.kernel_dirs: `kernels` in each Jupyter data directory,
        then IPython's (IPYTHONDIR, else ~/.ipython), unless the mount hides it."""
        ipython = (
            self.inventory.config.config.env_map().get("IPYTHONDIR") or f"{self.home.rstrip('/')}/.ipython"
        )
        dirs = [f"{d.rstrip('/')}/kernels" for d in [*self.jupyter_data_dirs, ipython]]
        return [d for d in dict.fromkeys(dirs) if not self.hidden_by_mount(d)]

    @cached_property
    def _kernel_discovery(self) -> tuple[list[KernelSpec | KernelSpecError], list[tuple[str, str]]]:
        """Kernel directories as jupyter_client's KernelSpecManager.find_kernel_specs lists them: every
        `<kernel dir>/<name>/kernel.json`, names lower-cased, the first of a name winning (even
        when its kernel.json is broken: Jupyter picks the directory before it reads the file); then
        the conda environments with ipykernel. Returns the winners and (winner, hidden) path pairs."""
        by_dir: dict[str, list[str]] = {}
        for path in [*self.inventory.contents, *self.inventory.oversized]:
            if (match := KERNEL_JSON.fullmatch(path)) is not None:
                by_dir.setdefault(match["dir"], []).append(path)
        chosen: dict[str, KernelSpec | KernelSpecError] = {}
        shadowed: list[tuple[str, str]] = []
        for kernel_dir in self.kernel_dirs:
            real = self.files.resolve(kernel_dir) or kernel_dir  # through a symlinked directory
            if self.hidden_by_mount(real):
                continue
            for path in sorted(by_dir.get(real, [])):
                parsed = (
                    KernelSpecError(path=path, problem=f"{size} bytes, too large to read as a kernel spec")
                    if (size := self.inventory.oversized.get(path)) is not None
                    else parse_kernel_json(path, self.inventory.contents[path])
                )
                name = path.rsplit("/", 2)[-2].lower()
                if name in chosen:
                    shadowed.append((chosen[name].path, path))
                else:
                    chosen[name] = parsed
        for conda in self.conda_kernels:
            if conda.name in chosen:
                shadowed.append((chosen[conda.name].path, conda.path))
            else:
                chosen[conda.name] = conda
        return list(chosen.values()), shadowed

    @cached_property
    def kernel_errors(self) -> list[KernelSpecError]:
        return [k for k in self._kernel_discovery[0] if isinstance(k, KernelSpecError)]

    @cached_property
    def kernels_shadowed(self) -> list[tuple[str, str]]:
        """(the kernel.json Jupyter uses, the one of the same name it never reads)."""
        return self._kernel_discovery[1]

    @cached_property
    def conda_kernels(self) -> list[KernelSpec]:
        """Conda environments with ipykernel, which SageMaker offers as `conda-env-<env>-py`."""
        found: dict[str, KernelSpec] = {}
        for path, _ in self.files.nodes.kinds("ipykernel-", "__init__.py"):  # CONDA_IPYKERNEL's last names
            match = CONDA_IPYKERNEL.fullmatch(path)
            if match is None or self.hidden_by_mount(path):
                continue
            env, prefix = match["env"], match["prefix"]
            found.setdefault(
                prefix,
                KernelSpec(
                    name=f"conda-env-{env}-py",
                    display_name=f"Python [conda env:{env}]",
                    language="python",
                    argv=[f"{prefix}/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    path=prefix,
                    source="conda-env",
                ),
            )
        return sorted(found.values(), key=lambda k: k.name)

    @cached_property
    def kernels(self) -> list[KernelSpec]:
        """The kernels the image offers, one per name, in discovery order."""
        return [k for k in self._kernel_discovery[0] if isinstance(k, KernelSpec)]

    @cached_property
    def python_packages(self) -> dict[str, set[str]]:
        """Top-level packages in every site-packages directory: normalised name -> directories."""
        found: dict[str, set[str]] = {}
        for site, node in self.files.nodes.directories("site-packages", "dist-packages"):
            assert node.children is not None
            for name, _ in node.children.items():
                dist = DIST_INFO.fullmatch(name)
                name = dist["name"] if dist else name.removesuffix(".py")
                found.setdefault(re.sub(r"[-_.]+", "_", name).lower(), set()).add(site)
        return found

    @cached_property
    def r_packages(self) -> set[str]:
        return {
            m["name"] for path, _ in self.files.nodes.kinds("DESCRIPTION") if (m := R_PACKAGE.fullmatch(path))
        }

    @cached_property
    def java_versions(self) -> list[int]:
        """Major versions of the Java runtimes: from their `release` files, else the `java` on PATH."""
        versions = {
            int(match.group(1))
            for path, text in self.inventory.contents.items()
            if path.endswith("/release") and (match := JAVA_RELEASE_VERSION.search(text))
        }
        java = self.which("java")
        resolved = self.files.resolve(java) if java else None
        if resolved and (match := JAVA_HOME_VERSION.search(resolved)):
            versions.add(int(match.group(1)))
        return sorted(versions)

    @cached_property
    def shared_libraries(self) -> set[str]:
        """Names of the shared objects in the image, without their versions: "libpng16" for libpng16.so.16."""
        found = set()
        for path, kind in self.files.nodes.kinds(".so"):
            match = SHARED_OBJECT.fullmatch(path.rpartition("/")[2])
            if match and kind != DIR and (kind != SYMLINK or self.files.lookup(path)):
                found.add(match[1])  # a dangling symlink is no library
        return found

    @cached_property
    def rstudio_release(self) -> str | None:
        """The RStudio version: its VERSION file, else the version variable of RStudio's images."""
        env = self.inventory.config.config.env_map()
        candidates = (
            self.inventory.contents.get(RSTUDIO_VERSION_FILE),
            env.get("RSW_VERSION"),
            env.get("RSP_VERSION"),
        )
        return next((c.strip() for c in candidates if c and rstudio_version(c)), None)

    def files_under(self, root: str) -> list[str]:
        """Paths below `root` that are not directories, sorted."""
        return sorted(n.entry.path for n in self.files.under(root) if n.entry.kind != DIR)
