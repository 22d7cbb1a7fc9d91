"""Category3's data: the exam's colour photos when they can be had, else the offline stand-in.

Either way the learner's folder holds `data/train/<class>/` and `data/validation/<class>/` (the
folder-per-class layout `image_dataset_from_directory` labels from) and the grader gets held-out
images resized to the question's input size, scaled to [0, 1] as the starter scales them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from server.datasets import standin
from server.datasets.base import DatasetUnavailable, PrepareContext, Provenance, write_heldout
from server.datasets.catalogue import entry
from server.datasets.resolver import resolve, resolved_provenance

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif"}
STANDIN_NOTE = "STANDIN.md"


def class_folders(root: Path) -> list[Path]:
    """Classes are sub-folders, sorted by name: the order Keras gives them labels in."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def load_folder(root: Path, size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every image under root/<class>/ as float32 RGB in [0, 1] at size x size."""
    classes = class_folders(root)
    images, labels = [], []
    for label, folder in enumerate(classes):
        for path in _images(folder):
            with Image.open(path) as image:
                resized = image.convert("RGB").resize((size, size), Image.BILINEAR)
            images.append(np.asarray(resized, dtype="float32") / 255.0)
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype="int64"), [c.name for c in classes]


def _extract(archive: Path, target: Path) -> Path:
    """The class folders' parent inside an archive (the official zips differ in nesting)."""
    if not target.is_dir():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(partial)
        partial.replace(target)
    root = target
    while True:
        folders = [p for p in class_folders(root) if p.name != "__MACOSX"]
        if len(folders) == 1 and not _direct_images(folders[0]):
            root = folders[0]
            continue
        return root


def _direct_images(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def prepare_official(ctx: PrepareContext, size: int) -> Provenance:
    """The exam's zips: the first becomes training data; the second is split between the
    learner's validation folder and the grader's held-out images."""
    catalogue_entry = entry(str(ctx.params["dataset"]))
    resolved = resolve(catalogue_entry, ctx)
    train_zip, test_zip = (resolved.paths[f.name] for f in catalogue_entry.files)
    extracted = ctx.cache_dir / "extracted" / catalogue_entry.folder
    train_root = _extract(train_zip, extracted / "train")
    test_root = _extract(test_zip, extracted / "test")
    data_dir = ctx.question_dir / "data"
    shutil.copytree(train_root, data_dir / "train", ignore=shutil.ignore_patterns("__MACOSX"))
    rng = np.random.default_rng(ctx.seed)
    heldout_dir = ctx.heldout_path.with_suffix(".images")
    train_count = len(_images(data_dir / "train"))
    for folder in class_folders(test_root):
        if folder.name == "__MACOSX":
            continue
        files = _images(folder)
        order = rng.permutation(len(files))
        half = len(files) // 2
        for rank, index in enumerate(order):
            target = (data_dir / "validation" if rank < half else heldout_dir) / folder.name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[index], target / files[index].name)
    x, y, names = load_folder(heldout_dir, size)
    shutil.rmtree(heldout_dir, ignore_errors=True)
    write_heldout(ctx.heldout_path, x=x, y=y, class_names=np.asarray(names))
    return resolved_provenance(
        catalogue_entry, resolved, train=train_count, heldout=len(y),
        note="The official validation set is split: half for your validation folder, half held out.")


def standin_key(classes: list[str], seed: int, size: int, counts: dict[str, int]) -> str:
    text = json.dumps([standin.GENERATOR_VERSION, classes, seed, size, counts], sort_keys=True)
    return f"v{standin.GENERATOR_VERSION}-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_standin(cache_dir: Path, classes: list[str], seed: int, size: int,
                   counts: dict[str, int]) -> tuple[Path, bool]:
    """Generate once per (version, classes, seed, size, counts); later sessions copy the cache."""
    folder = cache_dir / "standin" / standin_key(classes, seed, size, counts)
    if (folder / "heldout.npz").is_file():
        return folder, True
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for offset, split in enumerate(("train", "validation", "heldout")):
        standin.generate(partial / split, classes, counts[split], size, seed * 3 + offset)
    x, y, names = load_folder(partial / "heldout", size)
    shutil.rmtree(partial / "heldout")
    np.savez_compressed(partial / "heldout.npz", x=x, y=y, class_names=np.asarray(names))
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)
    return folder, False


def _standin_readme(classes: list[str], official: str, reason: str) -> str:
    return "\n".join([
        "# Offline stand-in data",
        "",
        f"The official photos ({official}) could not be had on this machine: {reason}",
        "",
        "So this question uses an **offline stand-in**: generated colour images of "
        f"{', '.join(classes)}, one folder per class, with varied colour, position, size, rotation,",
        "background texture and noise. The task is the same: a CNN that learns the shapes, not",
        "the pixels. Scores on the stand-in are not comparable with the real exam's photos.",
        "",
    ])


def prepare_standin(ctx: PrepareContext, size: int, reason: str) -> Provenance:
    classes = [str(c) for c in ctx.params["standin_classes"]]  # type: ignore[union-attr]
    counts = {k: int(v) for k, v in ctx.params["standin_counts"].items()}  # type: ignore[union-attr]
    seed = int(ctx.params.get("standin_seed", 1))  # type: ignore[call-overload]
    folder, reused = cached_standin(ctx.cache_dir, classes, seed, size, counts)
    data_dir = ctx.question_dir / "data"
    for split in ("train", "validation"):
        shutil.copytree(folder / split, data_dir / split)
    ctx.heldout_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "heldout.npz", ctx.heldout_path)
    catalogue_entry = entry(str(ctx.params["dataset"]))
    (data_dir / STANDIN_NOTE).write_text(
        _standin_readme(classes, catalogue_entry.title, reason), encoding="utf-8")
    return Provenance(
        dataset=f"standin-{catalogue_entry.name}",
        title=f"offline stand-in for {catalogue_entry.title}: {', '.join(classes)} drawn shapes",
        source="standin",
        location=str(folder),
        complete=True,
        note=("Generated because the official photos could not be had: " + reason
              + (" (reused from the cache)" if reused else "")),
        licence="generated by tfexam",
        official_url=catalogue_entry.files[0].url,
        train_examples=len(classes) * counts["train"],
        heldout_examples=len(classes) * counts["heldout"],
    )


def prepare_photos(ctx: PrepareContext) -> Provenance:
    """params: dataset (catalogue name), image_size, standin_classes, standin_counts
    {train, validation, heldout}, standin_seed."""
    size = int(ctx.params.get("image_size", 150))  # type: ignore[call-overload]
    try:
        return prepare_official(ctx, size)
    except DatasetUnavailable as why:
        reason = str(why)
    except (zipfile.BadZipFile, OSError, ValueError) as error:  # a broken official copy
        reason = f"the official archives could not be read ({error})"
    shutil.rmtree(ctx.question_dir / "data", ignore_errors=True)
    return prepare_standin(ctx, size, reason)
