namespace PciPassthrough.Binding;

/// <summary>What a bind or unbind call did to one device.</summary>
public enum BindingOutcome
{
    /// <summary>Moved as asked.</summary>
    Changed,

    /// <summary>Already where it was asked to be: nothing was written.</summary>
    AlreadyThere,
}

/// <summary>One device's outcome, for the cmdlet to report and (with -PassThru) refresh.</summary>
public sealed record DeviceBindingResult(string PciAddress, BindingOutcome Outcome, string? FromDriver, string? ToDriver);
