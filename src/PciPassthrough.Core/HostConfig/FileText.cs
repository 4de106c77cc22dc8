using System.Text;
using PciPassthrough.HostFs;

namespace PciPassthrough.HostConfig;

/// <summary>How a configuration file's bytes hold its text.</summary>
internal enum TextForm
{
    Utf8,
    Utf8WithByteOrderMark,

    /// <summary>Not valid UTF-8: one byte per character (a Latin-1 comment in an old grub file).</summary>
    Latin1,
}

/// <summary>
/// A configuration file's bytes as text and back, so that a rewrite changes only the lines it edits (D20): a
/// UTF-8 byte order mark stays, and a file that is not UTF-8 is read and written one byte per character, so its
/// foreign bytes come back as they were instead of as U+FFFD.
/// </summary>
internal static class FileText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static (string Text, TextForm Form) Decode(byte[] bytes)
    {
        var marked = bytes.AsSpan().StartsWith(BoundedFile.Utf8ByteOrderMark);
        var body = marked ? bytes.AsSpan(BoundedFile.Utf8ByteOrderMark.Length) : bytes;
        try
        {
            return (StrictUtf8.GetString(body), marked ? TextForm.Utf8WithByteOrderMark : TextForm.Utf8);
        }
        catch (DecoderFallbackException)
        {
            return (Encoding.Latin1.GetString(bytes), TextForm.Latin1);
        }
    }

    /// <summary>Whether the form can hold the text: Latin-1 holds only U+0000 to U+00FF.</summary>
    public static bool CanHold(TextForm form, string text) => form != TextForm.Latin1 || !text.Any(c => c > '\u00FF');

    public static byte[] Encode(string text, TextForm form) => form switch
    {
        TextForm.Latin1 => Encoding.Latin1.GetBytes(text),
        TextForm.Utf8WithByteOrderMark => [.. BoundedFile.Utf8ByteOrderMark, .. StrictUtf8.GetBytes(text)],
        _ => StrictUtf8.GetBytes(text),
    };
}
