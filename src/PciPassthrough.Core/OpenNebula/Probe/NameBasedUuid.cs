using System.Security.Cryptography;
using System.Text;

namespace PciPassthrough.OpenNebula.Probe;

/// <summary>RFC 4122 name-based UUIDs, as <c>uuidgen --sha1 --namespace @x500 --name NAME</c> prints them.</summary>
internal static class NameBasedUuid
{
    /// <summary>The X.500 distinguished-name namespace, 6ba7b814-9dad-11d1-80b4-00c04fd430c8.</summary>
    private static readonly byte[] X500Namespace = Convert.FromHexString("6ba7b8149dad11d180b400c04fd430c8");

    /// <summary>The version-5 (SHA-1) UUID of <paramref name="name"/> in the X.500 namespace, lowercase.</summary>
    public static string X500Sha1(string name)
    {
        var input = X500Namespace.Concat(Encoding.UTF8.GetBytes(name)).ToArray();
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 version 5 specifies; this is no security use
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0f) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3f) | 0x80);
        var hex = Convert.ToHexString(hash, 0, 16).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }
}
