/*
 * The component's environment and startup: main() builds the Env, calls
 * Component::construct(env) and then lets the main thread dispatch the
 * signals of Env::ep() for good.  Every session is served by the machine's
 * system calls (rtcr.h); errors come back as -RTCR_E* and become the
 * Genode API's error values.
 */
#include <base/component.h>
#include <base/log.h>
#include <base/sleep.h>
#include <dataspace/client.h>
#include <region_map/client.h>
#include <rm_session/connection.h>
#include <rom_session/connection.h>
#include <pd_session/connection.h>
#include <rtcr/genode.h>

using namespace Genode;

Region_map::Attach_error Genode::attach_error(long error)
{
	switch (-error) {
	case Rtcr::ENORAM:   return Region_map::Attach_error::OUT_OF_RAM;
	case Rtcr::ENOCAPS:  return Region_map::Attach_error::OUT_OF_CAPS;
	case Rtcr::ECAP:
	case Rtcr::EINVALDS: return Region_map::Attach_error::INVALID_DATASPACE;
	default:             return Region_map::Attach_error::REGION_CONFLICT;
	}
}

namespace {

	Alloc_error alloc_error(long error)
	{
		if (error == -Rtcr::ENORAM)  return Alloc_error::OUT_OF_RAM;
		if (error == -Rtcr::ENOCAPS) return Alloc_error::OUT_OF_CAPS;
		return Alloc_error::DENIED;
	}

	unsigned attach_flags(Region_map::Attr const &attr)
	{
		return (attr.writeable ? Rtcr::ATTACH_W : 0) | (attr.executable ? Rtcr::ATTACH_X : 0);
	}

	long attach_to(long rm, Dataspace_capability ds, Region_map::Attr const &attr)
	{
		return rtcr_attach(rm, ds.selector(), attr.size, attr.offset,
		                   attr.use_at ? (long)attr.at : Rtcr::ANYWHERE, attach_flags(attr));
	}

	/* Bytes an attach of `ds` with `attr` covers. */
	size_t attached_size(Dataspace_capability ds, Region_map::Attr const &attr)
	{
		if (attr.size) return attr.size;
		long size = rtcr_ds_size(ds.selector());
		return size > (long)attr.offset ? size_t(size) - attr.offset : 0;
	}

	struct Local_rm_impl : Local::Constrained_region_map
	{
		Result attach(Capability<Dataspace> ds, Attach_attr const &attr) override
		{
			long at = attach_to(Rtcr::ADDRESS_SPACE, ds, attr);
			if (at < 0)
				return attach_error(at);
			return { *this, { (void *)at, attached_size(ds, attr) } };
		}

		void _free(Attachment &a) override
		{
			rtcr_detach(Rtcr::ADDRESS_SPACE, (addr_t)a.ptr);
		}
	};

	struct Ram_allocator_impl : Ram_allocator
	{
		Result try_alloc(size_t size, Cache) override
		{
			long ds = rtcr_ram_alloc(size);
			if (ds < 0)
				return alloc_error(ds);
			return { *this, { Ram::Capability(ds), (size + 0xfff) & ~0xfffUL } };
		}

		void _free(Allocation &a) override { rtcr_ram_free(a.cap.selector()); }

		void seal(Ram::Capability ds) override { rtcr_ram_seal_flags(ds.selector(), 0); }
	};

	struct Cpu_impl : Cpu_session { };

	struct Env_impl : Env
	{
		Parent             _parent { };
		Cpu_impl           _cpu { };
		Local_rm_impl      _rm { };
		Pd_session         _pd { };
		Ram_allocator_impl _ram { };
		Entrypoint        &_ep;

		Env_impl(Entrypoint &ep) : _ep(ep) { }

		Parent        &parent() override { return _parent; }
		Cpu_session   &cpu()    override { return _cpu; }
		Local_rm      &rm()     override { return _rm; }
		Pd_session    &pd()     override { return _pd; }
		Ram_allocator &ram()    override { return _ram; }
		Entrypoint    &ep()     override { return _ep; }

		Pd_session_capability pd_session_cap() override
		{
			return Pd_session_capability(_pd._pd());
		}

		void exec_static_constructors() override { }
	};
}

/* ---- the pre-24.08 attach ------------------------------------------------ */

Local::Constrained_region_map::Local_addr
Local::Constrained_region_map::_legacy_attach(Capability<Dataspace> ds, size_t size,
                                              off_t offset, bool use_local_addr,
                                              Local_addr local_addr, bool executable,
                                              bool writeable)
{
	long at = attach_to(Rtcr::ADDRESS_SPACE, ds, {
		.size = size, .offset = (addr_t)offset, .use_at = use_local_addr,
		.at = local_addr, .executable = executable, .writeable = writeable });
	if (at >= 0)
		return Local_addr((addr_t)at);
	switch (attach_error(at)) {
	case Region_map::Attach_error::OUT_OF_RAM:        throw Out_of_ram();
	case Region_map::Attach_error::OUT_OF_CAPS:       throw Out_of_caps();
	case Region_map::Attach_error::INVALID_DATASPACE: throw Invalid_dataspace();
	case Region_map::Attach_error::REGION_CONFLICT:   break;
	}
	throw Region_conflict();
}

/* ---- sessions ------------------------------------------------------------ */

size_t Ram_allocator::_legacy_dataspace_size(Capability<Dataspace> ds)
{
	long size = rtcr_ds_size(ds.selector());
	return size > 0 ? size_t(size) : 0;
}

void Parent::exit(int exit_value) { rtcr_exit(exit_value); }

long Pd_account::_pd() const
{
	if (_sel == 0)
		_sel = rtcr_pd_self();
	return _sel;
}

namespace {

	Pd_account::Transfer_result transfer(Pd_account const &from, Capability<Pd_account> to,
	                                     size_t amount, unsigned kind)
	{
		long const result = rtcr_pd_transfer(from._pd(), to.selector(), amount, kind);
		if (result >= 0) return Pd_account::Transfer_result::OK;
		if (result == -Rtcr::ENORAM || result == -Rtcr::ENOCAPS)
			return Pd_account::Transfer_result::EXCEEDED;
		return Pd_account::Transfer_result::INVALID;
	}

	size_t quota(Pd_account const &pd, unsigned which)
	{
		long const n = rtcr_pd_quota(pd._pd(), which);
		return n > 0 ? size_t(n) : 0;
	}
}

Pd_account::Transfer_result Pd_account::transfer_quota(Capability<Pd_account> to, Cap_quota amount)
{
	return transfer(*this, to, amount.value, Rtcr::QUOTA_CAPS);
}

Pd_account::Transfer_result Pd_account::transfer_quota(Capability<Pd_account> to, Ram_quota amount)
{
	return transfer(*this, to, amount.value, Rtcr::QUOTA_RAM);
}

Pd_session::Alloc_ram_result Pd_session::alloc_ram(size_t size, Cache)
{
	long ds = rtcr_pd_ram_alloc(_pd(), size);
	if (ds < 0) return alloc_error(ds);
	return Ram_dataspace_capability(ds);
}

/* Genode ignores a dataspace the PD does not own; so does the API (the call says EDENIED). */
void Pd_session::free_ram(Ram_dataspace_capability ds) { rtcr_pd_ram_free(_pd(), ds.selector()); }

size_t Pd_session::ram_size(Ram_dataspace_capability ds)
{
	long size = rtcr_pd_ram_size(_pd(), ds.selector());
	return size > 0 ? size_t(size) : 0;
}

void Pd_session::seal_ram(Ram_dataspace_capability ds) { rtcr_pd_ram_seal(_pd(), ds.selector(), 0); }

void Pd_session::seal_ram_revoking(Ram_dataspace_capability ds)
{
	rtcr_pd_ram_seal(_pd(), ds.selector(), Rtcr::SEAL_REVOKE);
}

Capability<Region_map> Pd_session::address_space()
{
	return Capability<Region_map>(rtcr_pd_address_space(_pd()));
}

Capability<Region_map> Pd_session::stack_area()
{
	return Capability<Region_map>(rtcr_pd_stack_area(_pd()));
}

Pd_session::Ref_account_result Pd_session::ref_account(Capability<Pd_account> ref)
{
	return rtcr_pd_ref_account(_pd(), ref.selector()) < 0 ? Ref_account_result::INVALID_SESSION
	                                                       : Ref_account_result::OK;
}

Ram_quota Pd_session::ram_quota()  const { return { quota(*this, Rtcr::PD_RAM_LIMIT) }; }
Ram_quota Pd_session::used_ram()   const { return { quota(*this, Rtcr::PD_RAM_USED) }; }
Cap_quota Pd_session::cap_quota()  const { return { quota(*this, Rtcr::PD_CAPS_LIMIT) }; }
Cap_quota Pd_session::used_caps()  const { return { quota(*this, Rtcr::PD_CAPS_USED) }; }

Pd_session_capability Pd_connection::_open(char const *label)
{
	long pd = rtcr_pd_create(label);
	if (pd == -Rtcr::ENORAM)  throw Out_of_ram();
	if (pd == -Rtcr::ENOCAPS) throw Out_of_caps();
	if (pd < 0)               throw Service_denied();
	return Pd_session_capability(pd);
}

size_t Dataspace_client::size()
{
	long size = rtcr_ds_size(_ds.selector());
	return size > 0 ? size_t(size) : 0;
}

bool Dataspace_client::writeable()
{
	return rtcr_ds_writeable(_ds.selector()) == 1;
}

Region_map::Attach_result Region_map_client::attach(Dataspace_capability ds, Attr const &attr)
{
	long at = attach_to(_rm.selector(), ds, attr);
	if (at < 0)
		return attach_error(at);
	return Range { (addr_t)at, attached_size(ds, attr) };
}

void Region_map_client::detach(addr_t at) { rtcr_detach(_rm.selector(), at); }

void Region_map_client::fault_handler(Signal_context_capability handler)
{
	rtcr_fault_handler(_rm.selector(), handler.valid() ? handler.selector() : -1);
}

Region_map::Fault Region_map_client::fault()
{
	Rtcr::Fault_record f { Rtcr::FAULT_NONE, 0 };
	if (rtcr_fault(_rm.selector(), (struct rtcr_fault *)&f) < 0)
		return { Fault::Type::NONE, 0 };
	Fault::Type const type = f.type == Rtcr::FAULT_READ  ? Fault::Type::READ
	                       : f.type == Rtcr::FAULT_WRITE ? Fault::Type::WRITE
	                       : f.type == Rtcr::FAULT_EXEC  ? Fault::Type::EXEC
	                       : Fault::Type::NONE;
	return { type, f.addr };
}

Dataspace_capability Region_map_client::dataspace()
{
	return Dataspace_capability(rtcr_rm_dataspace(_rm.selector()));
}

Rm_session::Create_result Rm_connection::Session::create(size_t size)
{
	long rm = rtcr_rm_create(size);
	if (rm < 0) return alloc_error(rm);
	return Capability<Region_map>(rm);
}

void Rm_connection::Session::destroy(Capability<Region_map> rm)
{
	long result = rtcr_rm_destroy(rm.selector());
	if (result < 0)
		warning("destroying region map ", rm, " failed (error ", -result, ")");
}

Dataspace_capability Rom_connection::_open(char const *label)
{
	long ds = rtcr_rom_open(label);
	if (ds < 0) {
		error("could not open ROM session for \"", label, "\"");
		throw Rom_connection_failed();
	}
	return Dataspace_capability(ds);
}

/* ---- startup ------------------------------------------------------------- */

__attribute__((weak)) size_t Component::stack_size() { return 64 * 1024 * sizeof(long); }

namespace Genode { struct Startup; }

struct Genode::Startup
{
	struct Main_thread : Thread
	{
		Main_thread() : Thread(Main()) { }
		void entry() override { }
	};

	static Entrypoint &main_ep()
	{
		static Entrypoint ep { Entrypoint::Main() };
		return ep;
	}
};

extern "C" int main()
{
	static Startup::Main_thread main_thread { };
	static Env_impl env { Startup::main_ep() };
	Component::construct(env);
	Startup::main_ep().dispatch_forever();
}
