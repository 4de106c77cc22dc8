using System.Globalization;

namespace PciPassthrough;

/// <summary>
/// A PCI function address, <c>DDDD:BB:SS.F</c>. Parsing is strict because addresses end up in sysfs
/// paths: anything but hex digits in the right places (a <c>/</c>, a <c>..</c>) is rejected.
/// </summary>
public readonly struct PciAddress : IEquatable<PciAddress>, IComparable<PciAddress>
{
    public PciAddress(int domain, int bus, int slot, int function)
    {
        if (domain < 0 || bus is < 0 or > 0xff || slot is < 0 or > 0x1f || function is < 0 or > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(domain), "A PCI address has bus 00-ff, slot 00-1f and function 0-7.");
        }

        DomainNumber = domain;
        BusNumber = bus;
        SlotNumber = slot;
        FunctionNumber = function;
    }

    public int DomainNumber { get; }

    public int BusNumber { get; }

    public int SlotNumber { get; }

    public int FunctionNumber { get; }

    /// <summary><c>DDDD:BB:SS.F</c>, as sysfs names the device directory.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{DomainNumber:x4}:{BusNumber:x2}:{SlotNumber:x2}.{FunctionNumber:x}");

    /// <summary>lspci's slot column: <c>BB:SS.F</c> in domain 0, the full address in any other.</summary>
    public string ToLspciSlot() => DomainNumber == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{BusNumber:x2}:{SlotNumber:x2}.{FunctionNumber:x}")
        : ToString();

    /// <summary>Parses <c>DDDD:BB:SS.F</c> or, meaning domain 0000, <c>BB:SS.F</c>. Case-insensitive.</summary>
    public static bool TryParse(string? text, out PciAddress address)
    {
        address = default;
        if (string.IsNullOrEmpty(text) || text.Length > 17)
        {
            return false;
        }

        var parts = text.Split(':');
        int domain = 0;
        int next = 0;
        if (parts.Length == 3)
        {
            if (!TryHex(parts[0], 4, 8, out domain))
            {
                return false;
            }

            next = 1;
        }
        else if (parts.Length != 2)
        {
            return false;
        }

        var slotFunction = parts[next + 1].Split('.');
        if (slotFunction.Length != 2
            || !TryHex(parts[next], 2, 2, out var bus)
            || !TryHex(slotFunction[0], 2, 2, out var slot) || slot > 0x1f
            || !TryHex(slotFunction[1], 1, 1, out var function) || function > 7)
        {
            return false;
        }

        address = new PciAddress(domain, bus, slot, function);
        return true;
    }

    /// <summary>Parses the canonical sysfs form only (<c>dddd:bb:ss.f</c>, lowercase), without allocating.</summary>
    public static bool TryParseCanonical(ReadOnlySpan<char> s, out PciAddress address)
    {
        address = default;
        var colon = s.IndexOf(':');
        // The kernel prints the domain with %04x: more than four digits only for a domain above ffff, so
        // never with a leading zero. 00000:00:00.0 would be a second name for 0000:00:00.0 (D22).
        if (colon < 4 || colon > 8 || s.Length != colon + 8 || s[colon + 3] != ':' || s[colon + 6] != '.' || (colon > 4 && s[0] == '0'))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c is (< '0' or > '9') and (< 'a' or > 'f') and not ':' and not '.')
            {
                return false;
            }
        }

        if (!int.TryParse(s[..colon], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var domain)
            || !int.TryParse(s.Slice(colon + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var bus)
            || !int.TryParse(s.Slice(colon + 4, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var slot) || slot > 0x1f
            || !int.TryParse(s.Slice(colon + 7, 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var function) || function > 7
            || domain < 0)
        {
            return false;
        }

        address = new PciAddress(domain, bus, slot, function);
        return true;
    }

    /// <summary>Parses like <see cref="TryParse"/> or throws the module's InvalidPciAddress error.</summary>
    public static PciAddress Parse(string? text)
    {
        if (TryParse(text, out var address))
        {
            return address;
        }

        throw ErrorCatalog.InvalidAddress(text);
    }

    private static bool TryHex(string s, int minDigits, int maxDigits, out int value)
    {
        value = 0;
        if (s.Length < minDigits || s.Length > maxDigits)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return int.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && value >= 0;
    }

    public bool Equals(PciAddress other) =>
        DomainNumber == other.DomainNumber && BusNumber == other.BusNumber && SlotNumber == other.SlotNumber && FunctionNumber == other.FunctionNumber;

    public override bool Equals(object? obj) => obj is PciAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(DomainNumber, BusNumber, SlotNumber, FunctionNumber);

    /// <summary>lspci's order: domain, bus, slot, function ascending.</summary>
    public int CompareTo(PciAddress other)
    {
        var c = DomainNumber.CompareTo(other.DomainNumber);
        if (c == 0) c = BusNumber.CompareTo(other.BusNumber);
        if (c == 0) c = SlotNumber.CompareTo(other.SlotNumber);
        return c != 0 ? c : FunctionNumber.CompareTo(other.FunctionNumber);
    }

    public static bool operator ==(PciAddress left, PciAddress right) => left.Equals(right);

    public static bool operator !=(PciAddress left, PciAddress right) => !left.Equals(right);

    public static bool operator <(PciAddress left, PciAddress right) => left.CompareTo(right) < 0;

    public static bool operator >(PciAddress left, PciAddress right) => left.CompareTo(right) > 0;

    public static bool operator <=(PciAddress left, PciAddress right) => left.CompareTo(right) <= 0;

    public static bool operator >=(PciAddress left, PciAddress right) => left.CompareTo(right) >= 0;
}
