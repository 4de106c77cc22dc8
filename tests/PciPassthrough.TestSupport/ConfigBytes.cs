using System.Buffers.Binary;

namespace PciPassthrough.TestSupport;

/// <summary>Builds config-space byte fixtures laid out as QEMU's devices lay them out (as lspci -xxxx shows them).</summary>
public static class ConfigBytes
{
    /// <summary>A PCIe function: PM capability at 0x40, PCIe capability at 0x60, optional ACS at 0x148.</summary>
    public static byte[] Pcie(int portType, int headerType = 0, bool multiFunction = false, int? acsCap = null, int? acsCtl = null, bool flr = false, bool pmNoSoftReset = false,
        int linkSpeed = 1, int linkWidth = 1, int maxSpeed = 1, int maxWidth = 1, int length = 4096, int secondary = 0, int subordinate = 0)
    {
        var c = new byte[length];
        Header(c, headerType, multiFunction, 0x1b36, 0x000c);
        if (headerType == 1)
        {
            c[0x19] = (byte)secondary;
            c[0x1a] = (byte)subordinate;
        }

        c[0x34] = 0x40;
        c[0x40] = 0x01; // PM
        c[0x41] = 0x60;
        BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(0x44), (ushort)(pmNoSoftReset ? 0x0008 : 0));
        c[0x60] = 0x10; // PCIe
        c[0x61] = 0x00;
        BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(0x62), (ushort)(0x2 | (portType << 4)));
        BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(0x64), flr ? 1u << 28 : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(0x6c), (uint)(maxSpeed | (maxWidth << 4)));
        BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(0x72), (ushort)(linkSpeed | (linkWidth << 4)));
        if (length >= 4096)
        {
            // AER at 0x100 -> ACS at 0x148 (or the list ends).
            BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(0x100), (uint)(0x0001 | (1 << 16) | ((acsCap is null ? 0 : 0x148) << 20)));
            if (acsCap is int cap)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(0x148), 0x000d | (1 << 16));
                BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(0x14c), (ushort)cap);
                BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(0x14e), (ushort)(acsCtl ?? 0));
            }
        }

        return c;
    }

    /// <summary>A conventional PCI function (256 bytes, as root reads it): only a PM capability.</summary>
    public static byte[] Conventional(int headerType = 0, bool multiFunction = false, int secondary = 0, int subordinate = 0)
    {
        var c = new byte[256];
        Header(c, headerType, multiFunction, 0x8086, 0x100e);
        c[0x34] = 0xdc;
        c[0xdc] = 0x01;
        if (headerType == 1)
        {
            c[0x19] = (byte)secondary;
            c[0x1a] = (byte)subordinate;
        }

        return c;
    }

    private static void Header(byte[] c, int headerType, bool multiFunction, int vendor, int device)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(0), (ushort)vendor);
        BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(2), (ushort)device);
        BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(6), 0x0010); // capability list
        c[0x0e] = (byte)(headerType | (multiFunction ? 0x80 : 0));
    }
}
