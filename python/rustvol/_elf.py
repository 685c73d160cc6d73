"""The DT_NEEDED entries of an ELF shared library (64- or 32-bit, either byte order), read
without loading it: used to check, before HDF5 starts, that h5py and librustvol.so depend on
the same libhdf5."""
import struct

DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5
SHT_DYNAMIC = 6


def needed(path):
    """List of DT_NEEDED sonames of the shared library at ``path`` ([] if not ELF)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        return []
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
    sections = []
    for i in range(shnum):
        off = shoff + i * shentsize
        if is64:
            _name, stype, _flags, addr, offset, size, link = struct.unpack_from(end + "IIQQQQI", data, off)
        else:
            _name, stype, _flags, addr, offset, size, link = struct.unpack_from(end + "IIIIIII", data, off)
        sections.append((stype, addr, offset, size, link))
    out = []
    for stype, _addr, offset, size, link in sections:
        if stype != SHT_DYNAMIC:
            continue
        strtab_off = sections[link][2]
        entsize = 16 if is64 else 8
        fmt = end + ("qQ" if is64 else "iI")
        for j in range(size // entsize):
            tag, val = struct.unpack_from(fmt, data, offset + j * entsize)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                s = data[strtab_off + val:data.index(b"\0", strtab_off + val)]
                out.append(s.decode())
    return out


def hdf5_needed(path):
    """The libhdf5 soname a library depends on (not libhdf5_hl), or None."""
    for n in needed(path):
        if n.startswith("libhdf5") and not n.startswith("libhdf5_hl"):
            return n
    return None
