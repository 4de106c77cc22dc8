namespace PciPassthrough;

/// <summary>OpenNebula's side: VM templates, host inventories, placement and hostdev XML.</summary>
public static partial class ErrorCatalog
{
    /// <summary>A file that names no such file is NotFound; any other I/O failure is a read error.</summary>
    private static FailureKind ReadFailure(Exception e) =>
        e is FileNotFoundException or DirectoryNotFoundException ? FailureKind.NotFound : FailureKind.ReadError;

    /// <param name="unit">"characters" for text given, "bytes" for a file not yet read.</param>
    public static PciPassthroughException TemplateTooLong(string source, long length, string unit, int limit) => new(
        ErrorIds.TemplateSyntax, FailureKind.InvalidArgument,
        $"{source} is {length} {unit} long; the limit is {limit}{(unit == "characters" ? "" : " characters")} (at line 1, column 1).",
        "Give the VM template itself; PCI sections are a few lines.",
        source);

    /// <param name="where">"line L, column C" of the offending character.</param>
    public static PciPassthroughException TemplateSyntax(string source, string where, string message) => new(
        ErrorIds.TemplateSyntax, FailureKind.InvalidArgument,
        $"{source}, {where}: {message}",
        "Write template attributes as NAME = \"value\" and PCI sections as PCI = [ VENDOR = \"10de\", DEVICE = \"1eb8\" ], with balanced brackets and quotes.",
        $"{source}:{where}");

    public static PciPassthroughException TemplateUnreadable(string path, Exception e) => new(
        ErrorIds.TemplateUnreadable, ReadFailure(e),
        $"Cannot read the template '{path}': {e.Message}",
        "Check the path, or give the text with -Template.",
        path, e);

    /// <summary>A PCI section breaks one of OpenNebula's rules; the message is OpenNebula's own where it has one.</summary>
    public static PciPassthroughException InvalidTemplateSection(string? where, string message, string action, object? target) => new(
        ErrorIds.InvalidTemplateSection, FailureKind.InvalidArgument,
        where is null ? message : $"{where}: {message}",
        action,
        target);

    public static PciPassthroughException SectionNamesNoDevice(string section) => InvalidTemplateSection(
        null,
        $"{section} names no device: only a section with a SHORT_ADDRESS gives a host address.",
        "Pipe Find-PciPlacement's assignments, or give a section with SHORT_ADDRESS.",
        section);

    public static PciPassthroughException InvalidHostInventory(string where, string message, string action, object? target, Exception? inner = null) => new(
        ErrorIds.InvalidHostInventory, FailureKind.InvalidArgument,
        $"{where}: {message}",
        action,
        target, inner);

    /// <summary>onehost XML that does not parse or lacks what OpenNebula always writes.</summary>
    public static PciPassthroughException InvalidHostInventoryXml(string where, string message, Exception? inner) => new(
        ErrorIds.InvalidHostInventory, FailureKind.InvalidArgument,
        message,
        "Give the output of 'onehost show -x <host>' or 'onehost list -x' unchanged.",
        where, inner);

    public static PciPassthroughException MixedHostInventoryInput() => new(
        ErrorIds.InvalidHostInventory, FailureKind.InvalidArgument,
        "The input mixes onehost XML text with device objects.",
        "Import XML and live inventories in separate calls.",
        null);

    public static PciPassthroughException HostInventoryUnreadable(string path, Exception e) => new(
        ErrorIds.HostInventoryUnreadable, ReadFailure(e),
        $"Cannot read '{path}': {e.Message}",
        "Save 'onehost list -x' to a file and give its path, or pipe the XML text.",
        path, e);

    public static PciPassthroughException InvalidPassthroughBus(string bus) => new(
        ErrorIds.InvalidPlacementOptions, FailureKind.InvalidArgument,
        $"The passthrough bus '{bus}' is not a bus number.",
        "Give PCI_PASSTHROUGH_BUS as oned.conf does, a hexadecimal bus number such as 0x01.",
        bus);

    public static PciPassthroughException InvalidUuid(string uuid) => new(
        ErrorIds.InvalidUuid, FailureKind.InvalidArgument,
        $"'{uuid}' is not a UUID.",
        "Give the mdev UUID as the probe's UUID attribute prints it, for example e4042b96-e63d-56cf-bcc8-4e6eecccc12e.",
        uuid);
}
