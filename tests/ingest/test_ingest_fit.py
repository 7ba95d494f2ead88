"""FIT images (U-Boot flattened image trees) opened node by node, on images built by
``mkimage -f`` from an image tree source: a kernel, a device tree and a ramdisk, compressed
with each compressor U-Boot names and not, with the data inside the tree and after it
(``mkimage -E``). Expected contents are what was put in. Hostile trees are the real images
with one property rewritten through pylibfdt (the library ingest reads them with)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import subprocess
from collections.abc import Callable
from pathlib import Path

import libfdt
import lz4.frame
import pytest
import zstandard
from firmware_build import fake_kernel, mkimage, run, tool
from ingest_support import sandbox

from assay.ingest import ArchiveLimits, IngestResult

LIMITS = ArchiveLimits(max_total_bytes=64 << 20, max_files=1000, max_depth=3)

COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "none": bytes,
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
    "lz4": lambda data: bytes(lz4.frame.compress(data)),
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _cpio(tmp_path: Path) -> bytes:
    """A newc cpio of one file, written by ``cpio`` (the ramdisk)."""
    root = tmp_path / "ramdisk-root"
    root.mkdir()
    (root / "init").write_text("#!/bin/sh\necho ramdisk\n")
    done = subprocess.run(
        [tool("cpio"), "-o", "-H", "newc", "--quiet"],
        cwd=root,
        input=b"init\n",
        capture_output=True,
        check=True,
    )
    return done.stdout


def build_fit(tmp_path: Path, out: Path, comp: str, external: bool = False) -> dict[str, bytes]:
    """A FIT image at ``out`` with a kernel and a ramdisk compressed with ``comp``, and a
    device tree; returns node name -> the bytes put in (before compression)."""
    kernel = fake_kernel(f"6.6.0-fit-{comp}")
    ramdisk = _cpio(tmp_path)
    (tmp_path / "board.dts").write_text('/dts-v1/;\n/ { model = "assay test board"; };\n')
    run(tool("dtc"), "-O", "dtb", "-o", tmp_path / "board.dtb", tmp_path / "board.dts")
    (tmp_path / "kernel.bin").write_bytes(COMPRESS[comp](kernel))
    (tmp_path / "ramdisk.bin").write_bytes(COMPRESS[comp](ramdisk))
    its = tmp_path / "image.its"
    its.write_text(
        f"""/dts-v1/;
/ {{
    description = "assay test FIT";
    #address-cells = <1>;
    images {{
        kernel-1 {{
            data = /incbin/("kernel.bin");
            type = "kernel"; arch = "arm"; os = "linux"; compression = "{comp}";
            load = <0x80008000>; entry = <0x80008000>;
            hash-1 {{ algo = "crc32"; }};
        }};
        fdt-1 {{
            data = /incbin/("board.dtb");
            type = "flat_dt"; arch = "arm"; compression = "none";
        }};
        ramdisk-1 {{
            data = /incbin/("ramdisk.bin");
            type = "ramdisk"; arch = "arm"; os = "linux"; compression = "{comp}";
        }};
    }};
    configurations {{
        default = "conf-1";
        conf-1 {{ kernel = "kernel-1"; fdt = "fdt-1"; ramdisk = "ramdisk-1"; }};
    }};
}};
"""
    )
    mkimage("-f", its, *(["-E"] if external else []), out)
    return {
        "kernel-1": kernel,
        "fdt-1": (tmp_path / "board.dtb").read_bytes(),
        "ramdisk-1": ramdisk,
    }


def nodes(result: IngestResult, fit: str) -> dict[str, bytes]:
    """Node name -> the bytes ingest wrote for each node member of ``fit``."""
    prefix = f"{fit}!/images/"
    return {
        f.path[len(prefix) :]: Path(f.disk_path).read_bytes()
        for f in result.files
        if f.path.startswith(prefix) and "!/" not in f.path[len(prefix) :]
    }


@pytest.mark.parametrize("comp", sorted(COMPRESS))
@pytest.mark.parametrize("external", [False, True], ids=["embedded", "external"])
def test_every_node_is_opened_with_its_compression_undone(
    tmp_path: Path, comp: str, external: bool
) -> None:
    box = sandbox(tmp_path)
    put = build_fit(tmp_path, box.inputs / "image.itb", comp, external)
    result = box.ingest(box.inputs, LIMITS)
    assert nodes(result, "image.itb") == put
    (kernel,) = [c for c in result.containers if c.format == "linux-kernel"]
    assert (kernel.path, kernel.version) == ("image.itb!/images/kernel-1", f"6.6.0-fit-{comp}")
    # the ramdisk is a cpio, opened at the next level; the device tree stays a file
    paths = {f.path for f in result.files}
    assert "image.itb!/images/ramdisk-1!/init" in paths
    assert [s for s in result.skipped if s.path.startswith("image.itb")] == []


def _rewrite(image: Path, node: str, **props: bytes | int) -> None:
    """Set properties of ``/images/<node>`` in the FIT at ``image`` (its tree only)."""
    blob = image.read_bytes()
    total = int.from_bytes(blob[4:8], "big")
    tree = libfdt.Fdt(blob[:total])
    tree.resize(total + 256)
    offset = tree.path_offset(f"/images/{node}")
    for name, value in props.items():
        name = name.replace("_", "-")
        if isinstance(value, int):
            tree.setprop_u32(offset, name, value)
        else:
            tree.setprop(offset, name, value)
    tree.pack()
    new = bytes(tree.as_bytearray())
    rest = blob[(total + 3) // 4 * 4 :]
    image.write_bytes(new + b"\0" * (-len(new) % 4) + rest)


def _records(result: IngestResult) -> dict[str, tuple[str, str]]:
    return {s.path: (s.reason, s.detail) for s in result.skipped}


def test_node_data_outside_the_file_is_skipped(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "image.itb"
    put = build_fit(tmp_path, image, "gzip", external=True)
    _rewrite(image, "ramdisk-1", data_size=0x7FFFFFF0)  # a huge declared size
    _rewrite(image, "fdt-1", data_position=0xFFFFFF00)
    result = box.ingest(box.inputs, LIMITS)
    assert nodes(result, "image.itb") == {"kernel-1": put["kernel-1"]}
    records = _records(result)
    for node in ("ramdisk-1", "fdt-1"):
        reason, detail = records[f"image.itb!/images/{node}"]
        assert reason == "corrupt-archive"
        assert "run past the file" in detail


def test_node_holding_the_fit_itself_is_skipped(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "image.itb"
    put = build_fit(tmp_path, image, "none", external=True)
    _rewrite(image, "kernel-1", data_position=0, data_size=image.stat().st_size - 64)
    result = box.ingest(box.inputs, LIMITS)
    assert nodes(result, "image.itb") == {k: put[k] for k in ("fdt-1", "ramdisk-1")}
    reason, detail = _records(result)["image.itb!/images/kernel-1"]
    assert reason == "corrupt-archive"
    assert "overlap the FIT's own tree" in detail


def test_lzo_node_is_a_missing_tool_and_garbage_is_damaged(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "image.itb"
    put = build_fit(tmp_path, image, "none")
    _rewrite(image, "kernel-1", compression=b"lzo\0")
    _rewrite(image, "ramdisk-1", compression=b"xz-or-so\0")
    _rewrite(image, "fdt-1", compression=b"gzip\0")  # a plain device tree is no gzip stream
    result = box.ingest(box.inputs, LIMITS)
    assert nodes(result, "image.itb") == {}
    records = _records(result)
    assert records["image.itb!/images/kernel-1"][0] == "missing-tool"
    assert "an lzo reader would be needed" in records["image.itb!/images/kernel-1"][1]
    assert records["image.itb!/images/ramdisk-1"][0] == "unsupported-compression"
    reason, detail = records["image.itb!/images/fdt-1"]
    assert reason == "corrupt-archive"
    assert detail.startswith("fit node declared gzip")
    assert put  # the nodes were there: the image was built with all three


def test_a_tree_of_thousands_of_nodes_is_cut_at_the_node_cap(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    nodes_src = "\n".join(
        f'        blob-{n} {{ data = "{n}"; type = "firmware"; compression = "none"; }};'
        for n in range(3000)
    )
    its = tmp_path / "many.its"
    its.write_text(f"/dts-v1/;\n/ {{\n    images {{\n{nodes_src}\n    }};\n}};\n")
    run(tool("dtc"), "-O", "dtb", "-o", box.inputs / "many.itb", its)
    result = box.ingest(box.inputs, LIMITS)
    read = nodes(result, "many.itb")
    assert len(read) == 256
    assert read["blob-0"] == b"0\0"
    (cut,) = [s for s in result.skipped if s.path.startswith("many.itb!/")]
    assert (cut.path, cut.reason) == ("many.itb!/images/blob-256", "bomb-file-count")


def test_a_node_that_decompresses_past_the_caps_is_stopped(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "image.itb"
    build_fit(tmp_path, image, "none")
    (tmp_path / "kernel.bin").write_bytes(gzip.compress(bytes(200 << 20)))  # 200 MiB of zeros
    its = tmp_path / "image.its"
    its.write_text(its.read_text().replace('compression = "none"', 'compression = "gzip"', 1))
    mkimage("-f", its, image)
    result = box.ingest(box.inputs, LIMITS)
    reasons = {s.reason for s in result.skipped if s.path.startswith("image.itb")}
    assert reasons & {"bomb-ratio", "bomb-total-size"}, result.skipped
    written = sum(Path(f.disk_path).stat().st_size for f in result.files)
    assert written <= LIMITS.max_total_bytes


@pytest.mark.parametrize("total", [0, 1 << 30], ids=["zero", "past-the-end"])
def test_a_tree_size_that_lies_is_a_record(tmp_path: Path, total: int) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "image.itb"
    build_fit(tmp_path, image, "gzip")
    data = bytearray(image.read_bytes())
    data[4:8] = total.to_bytes(4, "big")
    image.write_bytes(data)
    result = box.ingest(box.inputs, LIMITS)
    assert [f.path for f in result.files] == ["image.itb"]
    (record,) = result.skipped
    assert (record.path, record.reason) == ("image.itb", "corrupt-archive")
    assert record.detail.startswith("cannot open fit: FIT tree size")


def test_a_fit_inside_a_fit_stops_at_the_depth_cap(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    inner = tmp_path / "inner.itb"
    build_fit(tmp_path, inner, "none")
    its = tmp_path / "image.its"  # the same tree, its kernel node now holding the first FIT
    its.write_text(its.read_text().replace('"kernel.bin"', '"inner.itb"'))
    mkimage("-f", its, box.inputs / "outer.itb")
    limits = ArchiveLimits(max_total_bytes=64 << 20, max_files=1000, max_depth=1)
    result = box.ingest(box.inputs, limits)
    assert nodes(result, "outer.itb")["kernel-1"] == inner.read_bytes()
    records = {s.path: s.reason for s in result.skipped}
    assert records["outer.itb!/images/kernel-1"] == "nesting-depth"  # the inner FIT, not opened
    assert not [f for f in result.files if f.path.startswith("outer.itb!/images/kernel-1!/")]


def test_without_pylibfdt_a_fit_is_a_missing_tool_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pylibfdt is the optional 'firmware' extra (it builds from source): a plain install
    # records every FIT image as not unpacked, naming what to install, and loses nothing else
    from assay.ingest import fit

    monkeypatch.setattr(fit, "libfdt", None)
    box = sandbox(tmp_path)
    build_fit(tmp_path, box.inputs / "image.itb", "gzip")
    (box.inputs / "other.txt").write_text("kept\n")
    result = box.ingest(box.inputs, LIMITS)
    reason, detail = _records(result)["image.itb"]
    assert reason == "missing-tool" and "assay[firmware]" in detail
    assert "other.txt" in {f.path for f in result.files}
    assert not any(f.path.startswith("image.itb!/") for f in result.files)
