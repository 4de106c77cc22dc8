using PciPassthrough.Binding;
using PciPassthrough.HostConfig;
using PciPassthrough.HostFs;

namespace PciPassthrough.Mdev;

/// <summary>
/// Creates and removes mediated devices and their mdevctl definitions. Plan first (every input
/// resolved, every refusal raised, nothing written), then execute under the module's lock after
/// planning again with fresh facts, as mdevctl's own start and define do: parent, type, free
/// instances, UUID not taken, then the create write, the attributes (the device is removed again when
/// one fails), then the definition, written atomically.
/// </summary>
public sealed class MediatedDeviceManager
{
    private const int AlreadyExists = 17; // EEXIST: the UUID is taken (LAB L19)
    private const int NoSpace = 28;       // ENOSPC: no instance left

    private readonly HostRoot _root;
    private readonly IKernel _kernel;
    private readonly MediatedDeviceReader _reader;

    public MediatedDeviceManager(HostRoot root, IKernel kernel)
    {
        _root = root;
        _kernel = kernel;
        _reader = new MediatedDeviceReader(root);
    }

    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public CancellationToken Cancel { get; init; }

    public MediatedDeviceReader Reader => _reader;

    /// <summary>Checks a request and lists its writes; throws the refusal that applies.</summary>
    public MediatedDeviceCreation PlanCreate(MediatedDeviceRequest r)
    {
        if (r.NoStart && !r.Persist)
        {
            throw ErrorCatalog.InvalidMediatedDeviceRequest("-NoStart without -Persist would do nothing: -NoStart only defines the device for mdevctl.");
        }

        var uuid = MediatedDeviceReader.NormalizeUuid(r.Uuid) ?? throw ErrorCatalog.InvalidMediatedDeviceUuid(r.Uuid);
        r = r with { Uuid = uuid };
        if (r.Attributes.FirstOrDefault(a => !MediatedDeviceReader.IsPlainName(a.Name)) is { } bad)
        {
            throw ErrorCatalog.InvalidMediatedDeviceAttribute(bad.Name);
        }

        if (!_reader.ParentExists(r.Parent))
        {
            throw ErrorCatalog.MediatedDeviceParentNotFound(r.Parent, _reader.ParentLike(r.Parent));
        }

        var type = _reader.Type(r.Parent, r.Type) ?? throw ErrorCatalog.MediatedDeviceTypeNotFound(r.Parent, r.Type, _reader.Types(r.Parent).Select(t => t.Type));
        var active = _reader.Active(uuid);
        if (active is not null && (active.Parent != r.Parent || active.Type != r.Type))
        {
            throw ErrorCatalog.MediatedDeviceExists(uuid, $"is already active on {active.Parent} with type {active.Type}");
        }

        var writes = new List<MediatedDeviceWrite>();
        if (!r.NoStart && active is null)
        {
            if (type.AvailableInstances is <= 0)
            {
                throw ErrorCatalog.MediatedDeviceTypeExhausted(r.Parent, r.Type);
            }

            writes.Add(new(MediatedDeviceReader.TypePath(r.Parent, r.Type) + "/create", uuid));
            writes.AddRange(r.Attributes.Select(a => new MediatedDeviceWrite($"{MediatedDeviceReader.DevicesPath}/{uuid}/{a.Name}", a.Value)));
        }

        return new MediatedDeviceCreation(r, type.AvailableInstances, active is not null, writes, r.Persist ? PlanDefinition(r) : null);
    }

    /// <summary>Creates (and defines) the device under the lock, and returns it as read back.</summary>
    public MediatedDevice Create(MediatedDeviceRequest request, Action<string>? log = null)
    {
        using var held = BindingLock.Acquire(_root, LockTimeout, Cancel, log);
        var plan = PlanCreate(request);
        var uuid = plan.Request.Uuid;
        if (plan.Definition is { } definition)
        {
            ConfigFiles.EnsureWritable([definition]);
        }

        for (var i = 0; i < plan.Writes.Count; i++)
        {
            var write = plan.Writes[i];
            try
            {
                _kernel.Write(write.Path, write.Value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (i == 0)
                {
                    throw e.HResult switch
                    {
                        AlreadyExists => ErrorCatalog.MediatedDeviceExists(uuid, "already exists (the kernel answered EEXIST)"),
                        NoSpace => ErrorCatalog.MediatedDeviceTypeExhausted(plan.Request.Parent, plan.Request.Type),
                        _ => ErrorCatalog.MediatedDeviceCreateFailed(uuid, $"the kernel refused {write}: {e.Message}. Nothing was created.", e),
                    };
                }

                RemoveAfterFailure(uuid);
                throw ErrorCatalog.MediatedDeviceCreateFailed(uuid, $"{write} failed: {e.Message}. The device was removed again, as mdevctl does.", e);
            }

            if (i == 0 && _reader.Active(uuid) is null)
            {
                throw ErrorCatalog.MediatedDeviceCreateFailed(uuid, $"the kernel accepted {write}, but {MediatedDeviceReader.DevicesPath}/{uuid} did not appear.");
            }
        }

        if (plan.Definition is { } change)
        {
            try
            {
                ConfigFiles.Apply(change, DateTime.UtcNow);
            }
            catch (PciPassthroughException) when (plan.Writes.Count > 0)
            {
                RemoveAfterFailure(uuid); // all or nothing: no running device the caller asked to persist but could not
                throw;
            }
        }

        return Read(uuid, plan.Request.Parent);
    }

    /// <summary>Checks a removal and lists its writes; throws the refusal that applies.</summary>
    public MediatedDeviceRemoval PlanRemove(string uuidText, bool undefine, bool force)
    {
        var uuid = MediatedDeviceReader.NormalizeUuid(uuidText) ?? throw ErrorCatalog.InvalidMediatedDeviceUuid(uuidText);
        var found = _reader.Devices().Devices.Where(d => d.Uuid == uuid).ToList();
        var device = found.FirstOrDefault(d => d.State != MediatedDeviceState.Defined) ?? found.FirstOrDefault()
            ?? throw ErrorCatalog.MediatedDeviceNotFound(uuid, "is neither active in /sys/bus/mdev/devices nor defined in /etc/mdevctl.d");
        var active = device.State != MediatedDeviceState.Defined;
        if (!active && !undefine)
        {
            throw ErrorCatalog.MediatedDeviceNotFound(uuid, $"is not active (only defined in {device.ConfigPath}); -Undefine deletes its definition");
        }

        if (active && device.InUse.Length > 0 && !force)
        {
            throw ErrorCatalog.MediatedDeviceInUse(uuid, device.IommuGroup, device.InUse);
        }

        var definitions = undefine ? found.Select(d => d.ConfigPath).OfType<string>().ToList() : [];
        return new MediatedDeviceRemoval(device, active ? new MediatedDeviceWrite($"{MediatedDeviceReader.DevicesPath}/{uuid}/remove", "1") : null, definitions);
    }

    /// <summary>Removes (and undefines) the device under the lock.</summary>
    public void Remove(string uuid, bool undefine, bool force, Action<string>? log = null)
    {
        using var held = BindingLock.Acquire(_root, LockTimeout, Cancel, log);
        var plan = PlanRemove(uuid, undefine, force);
        var id = plan.Device.Uuid;
        if (plan.Remove is { } write)
        {
            try
            {
                _kernel.Write(write.Path, write.Value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw ErrorCatalog.MediatedDeviceRemoveFailed(id, $"the kernel refused {write}: {e.Message}. Nothing was changed.", e);
            }

            if (_reader.Active(id) is not null)
            {
                throw ErrorCatalog.MediatedDeviceRemoveFailed(id, $"the kernel accepted {write}, but the device is still there. Its definition was kept.");
            }
        }

        foreach (var path in plan.Definitions)
        {
            var full = _root.Resolve(path);
            _root.EnsureWithin(full);
            try
            {
                File.Delete(full);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw ErrorCatalog.ConfigWriteFailed(path, e);
            }
        }
    }

    /// <summary>The device as it is now (after a change).</summary>
    public MediatedDevice Read(string uuid, string parent)
    {
        var all = _reader.Devices().Devices.Where(d => d.Uuid == uuid).ToList();
        return all.FirstOrDefault(d => d.Parent == parent) ?? all.FirstOrDefault() ?? throw ErrorCatalog.MediatedDeviceNotFound(uuid, "is gone");
    }

    private ConfigFileChange PlanDefinition(MediatedDeviceRequest r)
    {
        var content = new MdevctlConfig(r.Type, r.StartMode, r.Attributes).Format();
        foreach (var other in _reader.Definitions().Where(d => d.Uuid == r.Uuid))
        {
            // mdevctl define: "Cowardly refusing to overwrite existing config". The same definition again is no change.
            if (other.Parent != r.Parent || _root.TryReadText(other.Path) != content)
            {
                throw ErrorCatalog.MediatedDeviceExists(r.Uuid, $"is already defined differently in {other.Path}");
            }
        }

        return ConfigFiles.Plan(_root, MdevctlConfig.PathOf(r.Parent, r.Uuid), _ => content);
    }

    private void RemoveAfterFailure(string uuid)
    {
        try
        {
            _kernel.Write($"{MediatedDeviceReader.DevicesPath}/{uuid}/remove", "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original failure is what the caller needs; the device stays and Get-MediatedDevice shows it.
        }
    }
}
